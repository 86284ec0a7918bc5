"""The proxy's connection to the VNC server: exact reads for the handshake, then whatever has arrived.

One protocol object for every way to the server: an asyncio Protocol over plain TCP or a unix socket, and an
asyncssh session over an SSH tunnel (direct-tcpip or direct-streamlocal), which asyncssh drives with the same
callbacks. It keeps the bytes objects the reads gave and hands them on as they are (one read is one message to
the browser, no copy) or joined once; asyncio's StreamReader would copy every byte three times more. Reading
pauses once HIGH_WATER bytes wait, so a VNC server never runs ahead of the browser by more than that.

Once both handshakes are done, `forward_to(deliver)` hands every later read to `deliver` from the callback that
got it (console.splice), with nothing kept here.
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
        self.deliver = None  # once forwarding: where each read goes
        self.ended = asyncio.get_running_loop().create_future()  # done once the server has closed
        self.on_pause_writing = self.on_resume_writing = None

    # asyncio (and asyncssh) callbacks

    def connection_made(self, transport):
        self.transport = transport
        if hasattr(transport, "max_size"):
            # asyncio's selector transport reads at most 256 KiB per turn of the loop: read all that is there.
            transport.max_size = READ_SIZE

    def session_started(self):
        """asyncssh: the channel is open (connection_made came first); nothing more to do."""

    def data_received(self, data, datatype=None):  # asyncssh adds a datatype (None: the channel's data)
        if self.deliver is not None:
            self.deliver(data)
            return
        self.chunks.append(data)
        self.size += len(data)
        self.arrived.set()
        if self.size >= HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    def eof_received(self):
        self._end()

    def connection_lost(self, exc):
        self._end()
        self.writable.set()

    def _end(self):
        self.closed = True
        self.arrived.set()
        if not self.ended.done():
            self.ended.set_result(None)

    def pause_writing(self):
        self.writable.clear()
        if self.on_pause_writing is not None:
            self.on_pause_writing()

    def resume_writing(self):
        self.writable.set()
        if self.on_resume_writing is not None:
            self.on_resume_writing()

    # the proxy's side

    async def _wait(self):
        self.arrived.clear()
        await self.arrived.wait()

    def _take(self):
        chunks, self.chunks, self.size = self.chunks, [], 0
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def read_some(self):
        """Everything that has arrived (at least one byte), or b"" at the end."""
        while not self.chunks:
            if self.closed:
                return b""
            await self._wait()
        return self._take()

    async def readexactly(self, count):
        while self.size < count:
            if self.closed:
                raise asyncio.IncompleteReadError(b"", count)
            await self._wait()
        data = b"".join(self.chunks)
        rest = data[count:]
        self.chunks, self.size = ([rest] if rest else []), len(rest)
        return data[:count]

    def forward_to(self, deliver, pause_writing=None, resume_writing=None):
        """From now on every read goes to `deliver(data)` at once, what was read already first; the optional
        callbacks are told when the server stops and starts taking what write() gives it."""
        if self.chunks:
            deliver(self._take())
        self.deliver = deliver
        self.on_pause_writing, self.on_resume_writing = pause_writing, resume_writing
        if not self.writable.is_set() and pause_writing is not None:
            pause_writing()

    def pause_reading(self):
        if not self.closed:
            self.transport.pause_reading()

    def resume_reading(self):
        if not self.closed:
            self.transport.resume_reading()

    def write(self, data):
        if not self.closed:
            self.transport.write(data)

    async def drain(self):
        await self.writable.wait()

    def close(self):
        self.deliver = None
        if self.transport is not None:
            self.transport.close()


async def open_tcp(address, port):
    loop = asyncio.get_running_loop()
    _, upstream = await loop.create_connection(Upstream, address, port)
    return upstream


async def open_unix(path):
    loop = asyncio.get_running_loop()
    _, upstream = await loop.create_unix_connection(Upstream, path)
    return upstream


async def open_ssh_tcp(ssh, address, port):
    """Over `ssh` (an asyncssh connection), a direct-tcpip channel to address:port as seen from the host."""
    _, upstream = await ssh.create_connection(Upstream, address, port)
    return upstream


async def open_ssh_unix(ssh, path):
    """Over `ssh`, a direct-streamlocal channel to the host's unix socket `path`."""
    _, upstream = await ssh.create_unix_connection(Upstream, path)
    return upstream
