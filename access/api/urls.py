from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-access"
router = DefaultRouter()
router.include_root_view = False
router.register("users", views.UserViewSet, basename="user")
router.register("groups", views.GroupViewSet, basename="group")
router.register("grants", views.GrantViewSet, basename="grant")
urlpatterns = router.urls
