from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import GROUP


class InventoryConsumer(AsyncJsonWebsocketConsumer):
    """Pushes inventory and job changes to open pages. Logged-in users only."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before accept reaches the browser as 1006, and live.js would retry
            # forever; 4401 tells it the session is gone.
            await self.accept()
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def inventory_event(self, event):
        await self.send_json({"kind": event["kind"], "data": event["data"]})
