from rest_framework.routers import DefaultRouter

from . import templates

app_name = "api-templates"
router = DefaultRouter()
router.include_root_view = False
router.register("", templates.InstanceTemplateViewSet)
urlpatterns = router.urls
