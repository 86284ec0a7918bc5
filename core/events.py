"""Push inventory and job changes to the open pages that show them; close a session's pages at logout.

A page names the topics it shows (<meta name="live-topics">, static/js/live.js): a kind ("job": every
job) or one object ("instance:12"; "host:3" also covers what lives on host 3: its VMs, pools, networks
and jobs). Its websocket joins one group per topic; a page that names none joins GROUP and gets all.
"""
import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

log = logging.getLogger(__name__)
GROUP = "inventory"
TOPIC_KINDS = frozenset({"host", "instance", "job", "network", "storage"})


def topic_group(kind, object_id=None):
    return f"live.{kind}" if object_id is None else f"live.{kind}.{object_id}"


def groups_for(kind, data):
    """The groups an event goes to: everyone's, its kind's, its object's, its host's and its job target's."""
    groups = [GROUP, topic_group(kind)]
    if data.get("id") is not None:
        groups.append(topic_group(kind, data["id"]))
    if kind != "host" and data.get("host") is not None:
        groups.append(topic_group("host", data["host"]))
    target_kind, _, target_id = (data.get("target") or "").partition(":")
    if target_kind in TOPIC_KINDS and target_id:
        groups.append(topic_group(target_kind, target_id))
    return groups


def publish(kind, **data):
    """Best effort: pages also refresh on reload, so a down Redis must not fail the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send)(layer, kind, data)
    except Exception as exc:  # noqa: BLE001 - any transport error
        log.warning("could not publish %s event: %s", kind, exc)


# Events per channel-layer message of publish_many: one group_send costs a Redis round trip or two (1-1.5 ms
# measured), so 200 rows sent one by one took 0.3 s of a bulk action; a message stays far below Redis' limits.
BATCH = 100


def publish_many(kind, items):
    """Several events of one kind (a dict of data each): a bulk action's rows. Each goes to the groups publish()
    would send it to (groups_for), BATCH events of a group to a message; each page still receives them one by
    one (InventoryConsumer.inventory_events), as publish() sends them.

    Best effort, as publish().
    """
    layer = get_channel_layer()
    if layer is None or not items:
        return

    async def send_all():
        by_group = {}
        for data in items:
            for group in groups_for(kind, data):
                by_group.setdefault(group, []).append(data)
        for group in await _occupied(layer, by_group):
            batch = by_group[group]
            for start in range(0, len(batch), BATCH):
                await layer.group_send(group, {"type": "inventory.events", "kind": kind,
                                               "items": batch[start:start + BATCH]})

    try:
        async_to_sync(send_all)()
    except Exception as exc:  # noqa: BLE001 - any transport error
        log.warning("could not publish %s events: %s", kind, exc)


async def _send(layer, kind, data):
    message = {"type": "inventory.event", "kind": kind, "data": data}
    for group in await _occupied(layer, groups_for(kind, data)):
        await layer.group_send(group, message)


async def _occupied(layer, groups):
    """The groups, in order, that have a member: one pipelined round trip per Redis shard, where a group_send
    takes two per group even with nobody in it (a 200-VM bulk action's rows name 206 groups: one per VM for its
    page, one per host, two for lists; most have nobody listening). Members are counted as group_send keeps
    them: those not older than the layer's group_expiry. A member joining meanwhile is missed, as group_send
    itself misses one joining between its own listing and sending. Another kind of layer (in-memory): all the groups."""
    groups = list(groups)
    if not isinstance(layer, RedisChannelLayer):
        return groups
    shards = {}
    for group in groups:
        shards.setdefault(layer.consistent_hash(group), []).append(group)
    oldest_kept = f"({int(time.time()) - layer.group_expiry}"  # group_send drops scores up to that one included
    occupied = set()
    for index, names in shards.items():
        pipe = layer.connection(index).pipeline(transaction=False)
        for group in names:
            pipe.zcount(layer._group_key(group), oldest_kept, "+inf")
        occupied.update(group for group, members in zip(names, await pipe.execute()) if members)
    return [group for group in groups if group in occupied]


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
