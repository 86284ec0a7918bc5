from django.urls import path

from core.generic import action_urls
from instances.migration_views import host_urlpatterns as evacuate_urls

from . import host_key_views, views
from .actions import ACTIONS
from .models import Host

app_name = "hosts"
urlpatterns = [
    path("", views.HostListView.as_view(), name="host_list"),
    path("add/", views.HostFormView.as_view(), name="host_add"),
    path("<int:pk>/", views.HostDetailView.as_view(), name="host_detail"),
    path("<int:pk>/edit/", views.HostFormView.as_view(), name="host_edit"),
    path("<int:pk>/delete/", views.HostDeleteView.as_view(), name="host_delete"),
    *action_urls(Host, ACTIONS),
]
urlpatterns += [  # the SSH steps of adding a host (hosts/host_key_views.py)
    path("ssh-host-key/", host_key_views.HostKeyFetchView.as_view(), name="ssh_host_key"),
    path("ssh-key-pair/", host_key_views.KeyPairView.as_view(), name="ssh_key_pair"),
    path("<int:pk>/host-key/", host_key_views.HostKeyAcceptView.as_view(), name="host_key_accept"),
]
urlpatterns += evacuate_urls  # Evacuate (instances/migration_views.py)
