from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-networks"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.NetworkViewSet)
urlpatterns = [
    path("traces/<int:job_id>/<int:index>/", views.TracePcapView.as_view(), name="trace-pcap"),
    *router.urls,
]
