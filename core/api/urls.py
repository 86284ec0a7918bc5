from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-core"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("jobs", views.JobViewSet)
urlpatterns = [path("health/", views.HealthView.as_view(), name="health"), *router.urls]
