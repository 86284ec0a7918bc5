from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-hosts"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.HostViewSet)
urlpatterns = router.urls
