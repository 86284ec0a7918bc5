from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-instances"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.InstanceViewSet)
urlpatterns = router.urls
