from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from access.rules import may_see_event, visible_events

from .events import GROUP, TOPIC_KINDS, session_group, topic_group

MAX_TOPICS = 10


def topic_groups(query_string):
    """The groups for ?topics=host:3+job (core/events.py); GROUP (every event) when the page names none.
    Unknown kinds and ids that are not short numbers are ignored."""
    words = " ".join(parse_qs(query_string.decode("latin-1")).get("topics", [])).split()[:MAX_TOPICS]
    groups = []
    for word in words:
        kind, _, object_id = word.partition(":")
        valid_id = not object_id or (object_id.isascii() and object_id.isdigit() and len(object_id) <= 12)
        if kind in TOPIC_KINDS and valid_id:
            groups.append(topic_group(kind, int(object_id) if object_id else None))
    return groups or [GROUP]


class InventoryConsumer(AsyncJsonWebsocketConsumer):
    """Pushes inventory and job changes to open pages. Logged-in users only, and each event only to those who
    may see its object (access/rules.py); closed when their session logs out."""

    async def connect(self):
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            # Accept first: a close before accept reaches the browser as 1006, and live.js would retry
            # forever; 4401 tells it the session is gone.
            await self.accept()
            await self.close(code=4401)
            return
        self.user_id = user.pk
        self.joined = [*topic_groups(self.scope.get("query_string", b"")), session_group(session.session_key)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def inventory_event(self, event):
        if not await database_sync_to_async(may_see_event)(self.user_id, event["kind"], event["data"]):
            return
        await self.send_json({"kind": event["kind"], "data": event["data"]})

    async def inventory_events(self, event):
        """A batch from core.events.publish_many: the page gets each event it may see (one visibility check for
        the batch, not one per event) as inventory_event sends it."""
        for data in await database_sync_to_async(visible_events)(self.user_id, event["kind"], event["items"]):
            await self.send_json({"kind": event["kind"], "data": data})

    async def session_ended(self, event):
        await self.close(code=4401)
