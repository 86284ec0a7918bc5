from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views, xml
from .snapshots import SnapshotDetailView, SnapshotListView, SnapshotRevertView

app_name = "api-instances"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.InstanceViewSet)

urlpatterns = [
    # Before the router: its detail route would take "from-xml" for an id.
    path("from-xml/", xml.InstanceFromXMLView.as_view(), name="instance-from-xml"),
    path("<int:pk>/xml/", xml.InstanceXMLView.as_view(), name="instance-xml"),
    *router.urls,
    # A VM's snapshots (instances/api/snapshots.py).
    path("<int:pk>/snapshots/", SnapshotListView.as_view(), name="instance-snapshot-list"),
    path("<int:pk>/snapshots/<str:name>/", SnapshotDetailView.as_view(), name="instance-snapshot-detail"),
    path("<int:pk>/snapshots/<str:name>/revert/", SnapshotRevertView.as_view(), name="instance-snapshot-revert"),
]
