"""A minimal RFB client over virtdeck's console websocket, for tests: what noVNC does, step by step."""
import asyncio
import struct

import websockets


class VncOverWebsocket:
    """Reads exact byte counts across websocket messages; keeps every byte received (`received`)."""

    def __init__(self, websocket):
        self.ws = websocket
        self.buffer = bytearray()
        self.received = bytearray()

    async def read(self, count, timeout=30):
        while len(self.buffer) < count:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
            assert isinstance(message, bytes), f"a text frame: {message!r}"
            self.buffer += message
            self.received += message
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    async def handshake(self):
        """Version 3.8, security None (the only one offered), ClientInit shared: returns (width, height, name)."""
        assert await self.read(12) == b"RFB 003.008\n"
        await self.ws.send(b"RFB 003.008\n")
        count = (await self.read(1))[0]
        assert list(await self.read(count)) == [1], "virtdeck offers the browser security type None only"
        await self.ws.send(bytes([1]))
        assert await self.read(4) == b"\0\0\0\0"
        await self.ws.send(bytes([1]))  # ClientInit: shared
        width, height = struct.unpack(">HH", await self.read(4))
        await self.read(16)  # pixel format
        (name_length,) = struct.unpack(">I", await self.read(4))
        return width, height, (await self.read(name_length)).decode()

    async def framebuffer_update(self, width, height):
        """Ask for the whole screen (Raw encoding) and return the first FramebufferUpdate's rectangle count."""
        await self.ws.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw only
        await self.ws.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        while True:
            kind = (await self.read(1))[0]
            if kind == 0:
                await self.read(1)
                (rects,) = struct.unpack(">H", await self.read(2))
                return rects
            if kind == 2:  # Bell
                continue
            raise AssertionError(f"unexpected server message {kind}")


def connect(url, origin, cookie=None, **options):
    headers = {"Cookie": cookie} if cookie else {}
    return websockets.connect(url, origin=origin, additional_headers=headers, subprotocols=["binary"],
                              max_size=None, open_timeout=30, **options)


def refusal_code(url, origin, cookie=None):
    """The close code of a console the server refuses (daphne sends no close reason)."""
    async def refused():
        async with connect(url, origin, cookie) as ws:
            await ws.wait_closed()
            return ws.close_code

    return asyncio.run(refused())
