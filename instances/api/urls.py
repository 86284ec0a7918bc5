from django.urls import path
from rest_framework.routers import DefaultRouter

from . import devices, views, xml
from .migration import BulkMigrateView, MigrateView, PostCopyView
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

# A VM's hardware (instances/api/devices.py).
urlpatterns += [
    path("<int:pk>/disks/", devices.DiskListView.as_view(), name="instance-disks"),
    path("<int:pk>/disks/<str:target>/", devices.DiskView.as_view(), name="instance-disk"),
    path("<int:pk>/disks/<str:target>/resize/", devices.DiskResizeView.as_view(), name="instance-disk-resize"),
    path("<int:pk>/disks/<str:target>/media/", devices.MediaView.as_view(), name="instance-disk-media"),
    path("<int:pk>/nics/", devices.NicListView.as_view(), name="instance-nics"),
    path("<int:pk>/nics/<str:mac>/", devices.NicView.as_view(), name="instance-nic"),
    path("<int:pk>/config/", devices.ConfigView.as_view(), name="instance-config"),
]

# Live migration (instances/api/migration.py).
urlpatterns += [
    path("<int:pk>/migrate/", MigrateView.as_view(), name="instance-migrate"),
    path("<int:pk>/migrate/post-copy/", PostCopyView.as_view(), name="instance-migrate-post-copy"),
]

# Several VMs from the list (instances/api/migration.py): precheck each, one parent job.
urlpatterns += [path("bulk/migrate/", BulkMigrateView.as_view(), name="instance-bulk-migrate")]
