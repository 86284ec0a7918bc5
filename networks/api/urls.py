from rest_framework.routers import DefaultRouter

from . import views

app_name = "api-networks"
router = DefaultRouter()
router.include_root_view = False
router.register("", views.NetworkViewSet)
urlpatterns = router.urls
