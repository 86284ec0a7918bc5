from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import GROUP, session_group


class InventoryConsumer(AsyncJsonWebsocketConsumer):
    """Pushes inventory and job changes to open pages. Logged-in users only; closed when their session logs out."""

    async def connect(self):
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            # Accept first: a close before accept reaches the browser as 1006, and live.js would retry
            # forever; 4401 tells it the session is gone.
            await self.accept()
            await self.close(code=4401)
            return
        self.joined = [GROUP, session_group(session.session_key)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def inventory_event(self, event):
        await self.send_json({"kind": event["kind"], "data": event["data"]})

    async def inventory_events(self, event):
        """A batch from core.events.publish_many: the page gets each event as inventory_event sends it."""
        for data in event["items"]:
            await self.send_json({"kind": event["kind"], "data": data})

    async def session_ended(self, event):
        await self.close(code=4401)
