from django.urls import path

from . import hardware_views, snapshot_views, views, xml_views

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

# A VM's hardware page and its forms (instances/hardware_views.py).
urlpatterns += [
    path("<int:pk>/hardware/", hardware_views.HardwareView.as_view(), name="instance_hardware"),
    path("<int:pk>/hardware/<slug:change>/", hardware_views.HardwareChangeView.as_view(),
         name="instance_hardware_change"),
    path("<int:pk>/hardware/<slug:change>/<str:device>/", hardware_views.HardwareChangeView.as_view(),
         name="instance_hardware_device_change"),
]
