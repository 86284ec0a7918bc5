from django.urls import path
from rest_framework.routers import DefaultRouter

from .. import transfer_api
from ..benchmark_api import BenchmarkViewSet
from . import views

app_name = "api-storage"
router = DefaultRouter()
router.include_root_view = False
router.register("pools", views.PoolViewSet)
router.register("volumes", views.VolumeViewSet)
router.register("benchmarks", BenchmarkViewSet, basename="benchmark")
urlpatterns = router.urls
urlpatterns += [  # streamed bodies (settings.STREAMED_ROUTES): plain views, not viewset actions
    path("volumes/<int:pk>/upload/", transfer_api.VolumeUploadView.as_view(), name="volume-upload"),
    # What `curl -T FILE .../upload/` asks for (curl appends the file's name to a URL ending in "/").
    path("volumes/<int:pk>/upload/<str:file_name>", transfer_api.VolumeUploadAsView.as_view(), name="volume-upload-as"),
    path("volumes/<int:pk>/download/", transfer_api.VolumeDownloadView.as_view(), name="volume-download"),
]
