from django.urls import path

from core.generic import action_urls
from instances.migration_views import host_urlpatterns as evacuate_urls

from . import views
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
urlpatterns += evacuate_urls  # Evacuate (instances/migration_views.py)
