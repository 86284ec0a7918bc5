"""The proxy's connection to the VNC server: exact reads for the handshake, then whatever has arrived.

Over plain TCP or a unix socket an asyncio Protocol keeps the bytes objects the socket reads gave and hands
them on as they are (one read is one message to the browser, no copy) or joined once; asyncio's StreamReader
would copy every byte three times more. Reading pauses once HIGH_WATER bytes wait, so a VNC server never
runs ahead of the browser by more than that. An SSH tunnel's channel (asyncssh) has its own streams.
"""
import asyncio

HIGH_WATER = 4 * 1024 * 1024
READ_SIZE = 1024 * 1024  # the most one turn of the loop reads, hence the largest message to the browser


class Upstream(asyncio.Protocol):
    def __init__(self):
        self.transport = None
        self.chunks = []
        self.size = 0
        self.closed = False
        self.arrived = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.paused = False

    # asyncio callbacks

    def connection_made(self, transport):
        self.transport = transport
        if hasattr(transport, "max_size"):
            # asyncio's selector transport reads at most 256 KiB per turn of the loop: read all that is there.
            transport.max_size = READ_SIZE

    def data_received(self, data):
        self.chunks.append(data)
        self.size += len(data)
        self.arrived.set()
        if self.size >= HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self):
        self.closed = True
        self.arrived.set()

    def connection_lost(self, exc):
        self.closed = True
        self.arrived.set()
        self.writable.set()

    def pause_writing(self):
        self.writable.clear()

    def resume_writing(self):
        self.writable.set()

    # the proxy's side

    async def _wait(self):
        self.arrived.clear()
        await self.arrived.wait()

    async def read_some(self):
        """Everything that has arrived (at least one byte), or b"" at the end."""
        while not self.chunks:
            if self.closed:
                return b""
            await self._wait()
        chunks, self.chunks, self.size = self.chunks, [], 0
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def readexactly(self, count):
        while self.size < count:
            if self.closed:
                raise asyncio.IncompleteReadError(b"", count)
            await self._wait()
        data = b"".join(self.chunks)
        rest = data[count:]
        self.chunks, self.size = ([rest] if rest else []), len(rest)
        return data[:count]

    def write(self, data):
        if not self.closed:
            self.transport.write(data)

    async def drain(self):
        await self.writable.wait()

    def close(self):
        if self.transport is not None:
            self.transport.close()


class StreamUpstream:
    """The same interface over an (asyncssh) reader and writer."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    async def read_some(self):
        return await self.reader.read(HIGH_WATER)

    async def readexactly(self, count):
        return await self.reader.readexactly(count)

    def write(self, data):
        self.writer.write(data)

    async def drain(self):
        await self.writer.drain()

    def close(self):
        self.writer.close()


async def open_tcp(address, port):
    loop = asyncio.get_running_loop()
    _, upstream = await loop.create_connection(Upstream, address, port)
    return upstream


async def open_unix(path):
    loop = asyncio.get_running_loop()
    _, upstream = await loop.create_unix_connection(Upstream, path)
    return upstream
