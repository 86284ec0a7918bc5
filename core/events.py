"""Push inventory and job changes to open pages (Channels group 'inventory'); close a session's pages at logout."""
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
GROUP = "inventory"


def publish(kind, **data):
    """Best effort: pages also refresh on reload, so a down Redis must not fail the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(GROUP, {"type": "inventory.event", "kind": kind, "data": data})
    except Exception as exc:  # noqa: BLE001 - any transport error
        log.warning("could not publish %s event: %s", kind, exc)


# Events per channel-layer message of publish_many: one group_send costs a Redis round trip or two (1-1.5 ms
# measured), so 200 rows sent one by one took 0.3 s of a bulk action; a message stays far below Redis' limits.
BATCH = 100


def publish_many(kind, items):
    """Several events of one kind (a dict of data each): a bulk action's rows. They go BATCH to a message; each
    page still receives them one by one (InventoryConsumer.inventory_events), as publish() sends them.

    Best effort, as publish().
    """
    layer = get_channel_layer()
    if layer is None or not items:
        return

    async def send_all():
        for start in range(0, len(items), BATCH):
            await layer.group_send(GROUP, {"type": "inventory.events", "kind": kind,
                                           "items": list(items[start:start + BATCH])})

    try:
        async_to_sync(send_all)()
    except Exception as exc:  # noqa: BLE001 - any transport error
        log.warning("could not publish %s events: %s", kind, exc)


def session_group(session_key):
    """The Channels group of the websockets opened by one login session."""
    return f"session.{session_key}"


def close_session_sockets(sender, request, **kwargs):
    """On logout (user_logged_out), close the websockets of that session: they would go on receiving events."""
    layer = get_channel_layer()
    session_key = getattr(request, "session", None) and request.session.session_key
    if layer is None or not session_key:
        return
    try:
        async_to_sync(layer.group_send)(session_group(session_key), {"type": "session.ended"})
    except Exception as exc:  # noqa: BLE001 - any transport error; the logout itself must go through
        log.warning("could not close the websockets of a logged-out session: %s", exc)
