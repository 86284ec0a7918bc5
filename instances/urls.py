from django.urls import path

from core.generic import action_urls

from . import lifecycle_views, snapshot_views, views, xml_views
from .actions import ACTIONS
from .models import Instance

app_name = "instances"
urlpatterns = [
    path("", views.InstanceListView.as_view(), name="instance_list"),
    path("<int:pk>/", views.InstanceDetailView.as_view(), name="instance_detail"),
]

# A VM's snapshots (instances/snapshot_views.py).
urlpatterns += snapshot_views.urlpatterns
urlpatterns += [  # the XML editor and create-from-XML
    path("<int:pk>/xml/", xml_views.InstanceXMLView.as_view(), name="instance_xml"),
    path("from-xml/", xml_views.InstanceFromXMLView.as_view(), name="instance_from_xml"),
]
# Lifecycle: POST <pk>/start/ ... (instances:instance_start), rename, delete, bulk.
urlpatterns += [
    *action_urls(Instance, ACTIONS),
    path("<int:pk>/rename/", lifecycle_views.InstanceRenameView.as_view(), name="instance_rename"),
    path("<int:pk>/delete/", lifecycle_views.InstanceDeleteView.as_view(), name="instance_delete"),
    path("bulk/", lifecycle_views.InstanceBulkView.as_view(), name="instance_bulk"),
]
