from django.urls import path
from rest_framework.routers import DefaultRouter

from . import devices, views

app_name = "api-instances"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.InstanceViewSet)
urlpatterns = router.urls

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
