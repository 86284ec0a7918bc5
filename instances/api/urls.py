from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views
from .snapshots import SnapshotDetailView, SnapshotListView, SnapshotRevertView

app_name = "api-instances"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.InstanceViewSet)
urlpatterns = router.urls

# A VM's snapshots (instances/api/snapshots.py).
urlpatterns += [
    path("<int:pk>/snapshots/", SnapshotListView.as_view(), name="instance-snapshot-list"),
    path("<int:pk>/snapshots/<str:name>/", SnapshotDetailView.as_view(), name="instance-snapshot-detail"),
    path("<int:pk>/snapshots/<str:name>/revert/", SnapshotRevertView.as_view(), name="instance-snapshot-revert"),
]
