from django.urls import path
from rest_framework.routers import DefaultRouter

from instances.api.migration import EvacuateView

from . import host_keys, views

app_name = "api-hosts"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.HostViewSet)
# SSH host keys (host_keys.py): before the router, whose detail route would take "ssh-host-key" for a pk.
urlpatterns = [
    path("ssh-host-key/", host_keys.SshHostKeyView.as_view(), name="host-ssh-host-key"),
    path("ssh-key-pair/", host_keys.SshKeyPairView.as_view(), name="host-ssh-key-pair"),
    path("<int:pk>/host-key/", host_keys.HostKeyView.as_view(), name="host-host-key"),
] + router.urls

# Evacuate: every running VM elsewhere (the view lives with migration, instances/api/migration.py).
urlpatterns += [path("<int:pk>/evacuate/", EvacuateView.as_view(), name="host-evacuate")]
