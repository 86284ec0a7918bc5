"""Websockets to virtdeck's ASGI application through Channels' communicator, as a page of this site opens them."""
import re

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from virtdeck.asgi import application

HOST = b"127.0.0.1:8000"
ORIGIN = b"http://127.0.0.1:8000"
INVENTORY = "/ws/inventory/"


def over(scheme):
    """The application as reached by a `scheme` ("ws" or "wss") handshake."""
    async def app(scope, receive, send):
        return await application({**scope, "scheme": scheme}, receive, send)
    return app


async def socket(path, user=None, *, client=None, origin=ORIGIN, host=HOST, scheme="ws", extra_headers=()):
    """A websocket to `path` (not yet connected) from a page of `origin`, carrying a new session of `user` logged
    in on `client` (a new Client if None; no user: anonymous). It offers the "binary" subprotocol as the console
    pages do (console_common.js); the inventory socket ignores it. `origin` None sends no Origin header."""
    headers = [(b"host", host), *extra_headers]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        client = client or Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(over(scheme), path, headers=headers, subprotocols=["binary"])


async def live_page(user, topics=""):
    """The inventory websocket of a page of `user`'s that names `topics` (static/js/live.js), connected."""
    communicator = await socket(INVENTORY + (f"?topics={topics}" if topics else ""), user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def page_topics(client, url):
    """The topics a page's websocket subscribes to (static/js/live.js reads the same meta tag)."""
    content = client.get(url).content.decode()
    return re.search(r'<meta name="live-topics" content="([^"]*)">', content).group(1)
