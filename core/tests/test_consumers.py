"""The inventory websocket: logged-in users receive what the services publish."""
import pytest
from channels.testing import WebsocketCommunicator

from core.events import publish
from virtdeck.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def logged_in_socket(client, user, origin):
    """A websocket to /ws/inventory/ carrying `user`'s session cookie, from `origin`."""
    from asgiref.sync import sync_to_async

    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(application, "/ws/inventory/", headers=[(b"origin", origin), (b"cookie", cookie)])


async def test_it_pushes_inventory_events_to_a_logged_in_page(admin_user, client):
    from asgiref.sync import sync_to_async

    communicator = await logged_in_socket(client, admin_user, b"http://127.0.0.1")
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(publish)("instance", id=7, state="running")
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"kind": "instance", "data": {"id": 7, "state": "running"}}
    await communicator.disconnect()


async def test_it_refuses_a_websocket_from_another_origin(admin_user, client):
    communicator = await logged_in_socket(client, admin_user, b"http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected
