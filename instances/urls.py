from django.urls import path

from . import migration_views, snapshot_views, views, xml_views

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
urlpatterns += migration_views.urlpatterns  # Migrate (instances/migration_views.py)
