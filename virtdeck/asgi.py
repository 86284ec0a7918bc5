import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtdeck.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from console.routing import websocket_urlpatterns as console_websockets  # noqa: E402
from core import server_limits  # noqa: E402
from core.asgi_middleware import RealClientMiddleware, SameOriginMiddleware  # noqa: E402
from core.routing import websocket_urlpatterns  # noqa: E402
from core.streamed_http import StreamingHTTPChannel  # noqa: E402

# daphne refuses oversized requests before reading them, and streams the bodies of settings.STREAMED_ROUTES
server_limits.install(StreamingHTTPChannel)

application = RealClientMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": SameOriginMiddleware(
                AuthMiddlewareStack(URLRouter([*websocket_urlpatterns, *console_websockets]))
            ),
        }
    )
)
