"""The pool and volume lists name their live topics: storage events reach them, other objects' events do not."""
import pytest
from asgiref.sync import sync_to_async

from core.events import publish
from core.testing.websockets import live_page, page_topics

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("url", ["/storage/pools/", "/storage/volumes/"])
async def test_it_gets_storage_events_only(admin_user, client, url):
    await sync_to_async(client.force_login)(admin_user)
    topics = await sync_to_async(page_topics)(client, url)
    assert topics == "storage"
    page = await live_page(admin_user, topics)
    await sync_to_async(publish)("instance", id=5, host=2, state="paused")
    await sync_to_async(publish)("network", id=7, host=2, active=False)
    await sync_to_async(publish)("host", id=2, state="unreachable")
    assert await page.receive_nothing(timeout=0.5)
    await sync_to_async(publish)("storage", host=2, pool=3, volume=4)
    assert await page.receive_json_from(timeout=5) == {"kind": "storage", "data": {"host": 2, "pool": 3, "volume": 4}}
    await page.disconnect()
