from django.urls import path
from rest_framework.routers import DefaultRouter

from instances.api.migration import EvacuateView

from . import views

app_name = "api-hosts"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.HostViewSet)
urlpatterns = router.urls

# Evacuate: every running VM elsewhere (the view lives with migration, instances/api/migration.py).
urlpatterns += [path("<int:pk>/evacuate/", EvacuateView.as_view(), name="host-evacuate")]
