from django.urls import include, path

from core.generic import action_urls

from . import views
from . import benchmark_views
from .actions import POOL_ACTIONS
from .models import StoragePool

app_name = "storage"
urlpatterns = [
    path("pools/", views.PoolListView.as_view(), name="storagepool_list"),
    path("pools/add/", views.PoolCreateView.as_view(), name="storagepool_add"),
    path("pools/<int:pk>/", views.PoolDetailView.as_view(), name="storagepool_detail"),
    path("pools/<int:pk>/delete/", views.PoolDeleteView.as_view(), name="storagepool_delete"),
    path("pools/<int:pk>/volumes/add/", views.VolumeCreateView.as_view(), name="volume_add"),
    path("pools/", include(action_urls(StoragePool, POOL_ACTIONS))),
    path("volumes/", views.VolumeListView.as_view(), name="volume_list"),
    path("volumes/<int:pk>/", views.VolumeDetailView.as_view(), name="volume_detail"),
    path("volumes/<int:pk>/resize/", views.VolumeResizeView.as_view(), name="volume_resize"),
    path("volumes/<int:pk>/clone/", views.VolumeCloneView.as_view(), name="volume_clone"),
    path("volumes/<int:pk>/convert/", views.VolumeConvertView.as_view(), name="volume_convert"),
    path("volumes/<int:pk>/delete/", views.VolumeDeleteView.as_view(), name="volume_delete"),
    path("benchmarks/", benchmark_views.BenchmarkView.as_view(), name="benchmark"),
    path("benchmarks/<int:pk>/", benchmark_views.BenchmarkDetailView.as_view(), name="benchmark_detail"),
]
