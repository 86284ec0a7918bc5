"""The network list names its live topics: network events reach it, other objects' events do not."""
import pytest
from asgiref.sync import sync_to_async

from core.events import publish
from core.testing.websockets import live_page, page_topics

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_gets_network_events_only(admin_user, client):
    await sync_to_async(client.force_login)(admin_user)
    topics = await sync_to_async(page_topics)(client, "/networks/")
    assert topics == "network"
    page = await live_page(admin_user, topics)
    await sync_to_async(publish)("instance", id=5, host=2, state="paused")
    await sync_to_async(publish)("storage", host=2, pool=3)
    await sync_to_async(publish)("job", id=9, host=2, target="instance:5", progress=10)
    assert await page.receive_nothing(timeout=0.5)
    await sync_to_async(publish)("network", id=7, host=2, active=False)
    assert await page.receive_json_from(timeout=5) == {"kind": "network", "data": {"id": 7, "host": 2, "active": False}}
    await page.disconnect()
