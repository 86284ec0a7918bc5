"""Push inventory and job changes to open pages (Channels group 'inventory')."""
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
