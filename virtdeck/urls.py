from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from console.api import views as console_api
from core.api.views import TokenView
from metrics.views import PrometheusView
from networks.api import views as network_api

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("core.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("access/", include("access.urls")),
    path("hosts/", include("hosts.urls")),
    path("instances/", include("console.urls")),
    path("instances/", include("instances.urls")),
    path("networks/", include("networks.urls")),
    path("storage/", include("storage.urls")),
    path("guide/", include("guide.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switcher's POST
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),  # gettext() for static/js
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/tokens/", include("accounts.api.urls")),
    path("api/audit/", include("audit.api.urls")),
    path("api/", include("access.api.urls")),
    path("api/", include("core.api.urls")),
    path("api/hosts/<int:pk>/interfaces/", network_api.HostInterfacesView.as_view(), name="api-host-interfaces"),
    path("api/hosts/<int:pk>/firewall/", network_api.HostFirewallView.as_view(), name="api-host-firewall"),
    path("api/hosts/<int:pk>/bridges/", network_api.HostBridgesView.as_view(), name="api-host-bridges"),
    path("api/hosts/<int:pk>/bridges/<str:name>/", network_api.HostBridgeView.as_view(), name="api-host-bridge"),
    path("api/hosts/<int:pk>/bridges/<str:name>/confirm/", network_api.HostBridgeConfirmView.as_view(),
         name="api-host-bridge-confirm"),
    path("api/hosts/", include("hosts.api.urls")),
    path("api/instances/<int:pk>/console/", console_api.ConsoleTicketView.as_view(), name="api-instance-console"),
    path("api/instances/<int:pk>/nics/<str:mac>/path/", network_api.NICPathView.as_view(), name="api-nic-path"),
    path("api/instances/<int:pk>/nics/<str:mac>/trace/", network_api.NICTraceView.as_view(), name="api-nic-trace"),
    path("api/instances/", include("instances.api.urls")),
    path("api/networks/", include("networks.api.urls")),
    path("api/storage/", include("storage.api.urls")),
    path("api/metrics/", include("metrics.api.urls")),
    path("metrics", PrometheusView.as_view(), name="prometheus"),
    path("api/templates/", include("instances.api.template_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
