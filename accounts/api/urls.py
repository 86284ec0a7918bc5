from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-accounts"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.ApiTokenViewSet, basename="token")
urlpatterns = router.urls
