from django.urls import path

from . import snapshot_views, views, wizard_views, xml_views

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
