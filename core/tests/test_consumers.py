"""The inventory websocket: logged-in users receive what the services publish, from this site's pages only,
until they log out."""
import pytest
from asgiref.sync import sync_to_async

from access.models import Grant, Role
from core.events import publish, publish_many
from core.testing.websockets import HOST, INVENTORY, live_page, socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_pushes_inventory_events_to_a_logged_in_page(admin_user):
    communicator = await live_page(admin_user)
    await sync_to_async(publish)("instance", id=7, state="running")
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"kind": "instance", "data": {"id": 7, "state": "running"}}
    await communicator.disconnect()


async def test_it_pushes_a_batch_of_events_one_by_one(admin_user):
    communicator = await live_page(admin_user)
    items = [{"id": n, "state": "shutoff"} for n in range(150)]  # two messages on the channel layer
    await sync_to_async(publish_many)("instance", items)
    received = [await communicator.receive_json_from(timeout=5) for _ in items]
    assert received == [{"kind": "instance", "data": item} for item in items]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [(b"http://evil.example", HOST, "ws"),
     (b"http://127.0.0.1:8001", HOST, "ws"),          # another port of the same host
     (b"http://127.0.0.1", HOST, "ws"),               # the default port is another port
     (b"https://127.0.0.1:8000", HOST, "ws"),         # a TLS page talking to the plain-HTTP site
     (b"http://127.0.0.1:8000", HOST, "wss"),         # a plain page talking to the TLS site
     (b"http://127.0.0.1:8000.evil.example", HOST, "ws"),
     (b"http://evil.example:8000", b"evil.example:8000", "ws"),  # host not in ALLOWED_HOSTS
     (b"null", HOST, "ws"),                           # sandboxed iframes, file:// pages
     (None, HOST, "ws"),
     (b"http://127.0.0.1:8000/", HOST, "ws"),
     (b"HTTP://127.0.0.1:8000", HOST, "ws")],
    ids=["other-host", "other-port", "default-port", "https-page", "wss-site", "suffix", "disallowed-host",
         "null", "none", "trailing-slash", "upper-case-scheme"],
)
async def test_it_refuses_a_websocket_from_another_origin(admin_user, origin, host, scheme):
    communicator = await socket(INVENTORY, admin_user, origin=origin, host=host, scheme=scheme)
    connected, _ = await communicator.connect()
    assert not connected


async def test_it_refuses_a_websocket_with_two_origins(admin_user):
    communicator = await socket(INVENTORY, admin_user, extra_headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(("origin", "host", "scheme"),
                         [(b"http://127.0.0.1:8000", HOST, "ws"), (b"https://127.0.0.1:8000", HOST, "wss"),
                          (b"http://localhost", b"localhost", "ws")])
async def test_it_accepts_a_websocket_from_its_own_origin(admin_user, origin, host, scheme):
    communicator = await socket(INVENTORY, admin_user, origin=origin, host=host, scheme=scheme)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_it_accepts_an_origin_listed_in_csrf_trusted_origins(admin_user, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://virtdeck.example.org"]
    communicator = await socket(INVENTORY, admin_user, origin=b"https://virtdeck.example.org")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_it_takes_https_from_the_proxy_header_as_django_does(admin_user, settings):
    # Behind a TLS proxy daphne sees "ws"; with VIRTDECK_HTTPS, X-Forwarded-Proto says what the browser used.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    communicator = await socket(INVENTORY, admin_user, origin=b"https://127.0.0.1:8000",
                                extra_headers=[(b"x-forwarded-proto", b"https")])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_it_closes_the_sessions_websockets_at_logout(admin_user, member, client):
    communicator = await socket(INVENTORY, admin_user, client=client)
    assert (await communicator.connect())[0]
    await sync_to_async(Grant.objects.create)(user=member, role=Role.ADMIN)  # so that host events reach them
    bystander = await socket(INVENTORY, member)  # another user's session stays connected
    assert (await bystander.connect())[0]

    response = await sync_to_async(client.post)("/logout/")
    assert response.status_code == 302

    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await sync_to_async(publish)("host", id=1)
    assert await bystander.receive_json_from(timeout=5) == {"kind": "host", "data": {"id": 1}}
    await bystander.disconnect()
