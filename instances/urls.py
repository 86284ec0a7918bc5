from django.urls import path

from core.generic import action_urls

from . import hardware_views, lifecycle_views, migration_views, snapshot_views, views, wizard_views, xml_views
from .actions import ACTIONS
from .models import Instance

app_name = "instances"
urlpatterns = [
    path("", views.InstanceListView.as_view(), name="instance_list"),
    path("<int:pk>/", views.InstanceDetailView.as_view(), name="instance_detail"),
    path("new/", wizard_views.InstanceCreateView.as_view(), name="instance_add"),
    path("<int:pk>/clone/", wizard_views.InstanceCloneView.as_view(), name="instance_clone"),
    path("templates/", wizard_views.InstanceTemplateListView.as_view(), name="instancetemplate_list"),
    path("templates/<int:pk>/delete/", wizard_views.InstanceTemplateDeleteView.as_view(),
         name="instancetemplate_delete"),
]

# A VM's snapshots (instances/snapshot_views.py).
urlpatterns += snapshot_views.urlpatterns
urlpatterns += [  # the XML editor and create-from-XML
    path("<int:pk>/xml/", xml_views.InstanceXMLView.as_view(), name="instance_xml"),
    path("from-xml/", xml_views.InstanceFromXMLView.as_view(), name="instance_from_xml"),
]

# A VM's hardware page and its forms (instances/hardware_views.py).
urlpatterns += [
    path("<int:pk>/hardware/", hardware_views.HardwareView.as_view(), name="instance_hardware"),
    path("<int:pk>/hardware/<slug:change>/", hardware_views.HardwareChangeView.as_view(),
         name="instance_hardware_change"),
    path("<int:pk>/hardware/<slug:change>/<str:device>/", hardware_views.HardwareChangeView.as_view(),
         name="instance_hardware_device_change"),
]
urlpatterns += migration_views.urlpatterns  # Migrate (instances/migration_views.py)
# Lifecycle: POST <pk>/start/ ... (instances:instance_start), rename, delete, bulk.
urlpatterns += [
    *action_urls(Instance, ACTIONS),
    path("<int:pk>/rename/", lifecycle_views.InstanceRenameView.as_view(), name="instance_rename"),
    path("<int:pk>/delete/", lifecycle_views.InstanceDeleteView.as_view(), name="instance_delete"),
    path("bulk/", lifecycle_views.InstanceBulkView.as_view(), name="instance_bulk"),
]
