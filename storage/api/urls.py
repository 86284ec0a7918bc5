from rest_framework.routers import DefaultRouter

from ..benchmark_api import BenchmarkViewSet
from . import views

app_name = "api-storage"
router = DefaultRouter()
router.include_root_view = False
router.register("pools", views.PoolViewSet)
router.register("volumes", views.VolumeViewSet)
router.register("benchmarks", BenchmarkViewSet, basename="benchmark")
urlpatterns = router.urls
