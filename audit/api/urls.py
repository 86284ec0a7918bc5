from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-audit"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.AuditEntryViewSet)
urlpatterns = router.urls
