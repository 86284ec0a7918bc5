from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.views import TokenView

urlpatterns = [
    path("", include("core.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("hosts/", include("hosts.urls")),
    path("instances/", include("instances.urls")),
    path("storage/", include("storage.urls")),
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/", include("core.api.urls")),
    path("api/hosts/", include("hosts.api.urls")),
    path("api/instances/", include("instances.api.urls")),
    path("api/storage/", include("storage.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
