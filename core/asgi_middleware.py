"""ASGI middleware around the whole application (virtdeck.asgi): the real client address, and
websockets from this site's own pages only."""
import io
import ipaddress

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest


def is_trusted_proxy(address):
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1
    return any(address in network for network in settings.TRUSTED_PROXIES)


def forwarded_client(peer, forwarded_for):
    """The client a chain of trusted proxies forwarded for, or `peer` itself if it is not one of them.

    X-Forwarded-For lists the addresses each proxy saw, the nearest last: walk it from the right while
    the hops are trusted proxies; the first one that is not is the client.
    """
    try:
        hop = ipaddress.ip_address(peer)
    except ValueError:
        return peer  # a Unix socket or no address: nothing to resolve
    for entry in reversed([e.strip() for e in forwarded_for.split(",")] if forwarded_for else []):
        if not is_trusted_proxy(hop):
            break
        try:
            hop = ipaddress.ip_address(entry)
        except ValueError:
            break  # garbage from further out: keep the last hop a trusted proxy vouched for
    return str(hop)


class RealClientMiddleware:
    """Sets scope["client"] to the real client: the TCP peer, or what trusted proxies forwarded for.

    Django's REMOTE_ADDR comes from it, and DRF's throttles key on REMOTE_ADDR (NUM_PROXIES = 0), so a
    client cannot pick its own throttle bucket by sending X-Forwarded-For (settings.TRUSTED_PROXIES).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            forwarded_for = ",".join(v.decode("latin1") for k, v in scope.get("headers", [])
                                     if k == b"x-forwarded-for")
            client = forwarded_client(scope["client"][0], forwarded_for)
            if client != scope["client"][0]:
                scope = {**scope, "client": [client, 0]}
        return await self.app(scope, receive, send)


def same_origin(scope):
    """Whether a websocket handshake comes from a page of this site, by Django's CSRF rule: its Origin is
    this request's scheme://host[:port] (HTTPS as request.is_secure() says), or in CSRF_TRUSTED_ORIGINS."""
    origins = [v.decode("latin1") for k, v in scope.get("headers", []) if k == b"origin"]
    if len(origins) != 1:
        return False
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme"), scope.get("scheme"))
    request = ASGIRequest({**scope, "type": "http", "method": "GET", "scheme": scheme}, io.BytesIO())
    try:
        own = f"{'https' if request.is_secure() else 'http'}://{request.get_host()}"
    except DisallowedHost:
        return False
    return origins[0] == own or origins[0] in settings.CSRF_TRUSTED_ORIGINS


class SameOriginMiddleware:
    """Refuses websocket handshakes from other origins; Channels' AllowedHostsOriginValidator checks the
    host name only, so a page on another port or scheme of the same host could connect."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
