from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views, xml

app_name = "api-instances"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.InstanceViewSet)
# Before the router: its detail route would take "from-xml" for an id.
urlpatterns = [
    path("from-xml/", xml.InstanceFromXMLView.as_view(), name="instance-from-xml"),
    path("<int:pk>/xml/", xml.InstanceXMLView.as_view(), name="instance-xml"),
    *router.urls,
]
