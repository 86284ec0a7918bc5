from django.urls import path

from core.generic import action_urls

from . import views
from .actions import ACTIONS
from .models import Network

app_name = "networks"
urlpatterns = [
    path("", views.NetworkListView.as_view(), name="network_list"),
    path("add/", views.NetworkCreateView.as_view(), name="network_add"),
    path("<int:pk>/", views.NetworkDetailView.as_view(), name="network_detail"),
    path("<int:pk>/xml/", views.NetworkXMLView.as_view(), name="network_xml"),
    path("<int:pk>/delete/", views.NetworkDeleteView.as_view(), name="network_delete"),
    path("hosts/<int:pk>/", views.HostNetworkingView.as_view(), name="host_networking"),
    path("hosts/<int:pk>/bridges/", views.HostBridgeActionView.as_view(operation="create"), name="bridge_add"),
    path("hosts/<int:pk>/bridges/<str:name>/confirm/", views.HostBridgeActionView.as_view(operation="confirm"),
         name="bridge_confirm"),
    path("hosts/<int:pk>/bridges/<str:name>/delete/", views.HostBridgeActionView.as_view(operation="delete"),
         name="bridge_delete"),
    path("path/<int:pk>/<str:mac>/", views.NICPathView.as_view(), name="nic_path"),
    path("traces/<int:job_id>/<int:index>.pcap", views.trace_pcap, name="trace_pcap"),
    *action_urls(Network, ACTIONS),
]
