"""Backpressure from the browser to the VNC server, which ASGI has no words for.

An ASGI `send` returns as soon as daphne has queued the message in Twisted's transport: a proxy that reads
from the VNC server as fast as it can would pile up everything the browser has not taken yet in daphne's
memory (a slow link, QEMU's continuous updates), and Twisted's writer copies that whole backlog over and over
(measured: 76 MiB/s instead of hundreds). Under daphne, the proxy registers a Twisted push producer on the
websocket's transport: Twisted pauses it when more than its buffer size (64 KiB) waits to go out and resumes
it once all is sent. The proxy waits for that before its next message, stops reading from the VNC server
meanwhile, and TCP's own flow control slows the server down. Under another ASGI server (or the tests'
communicator) there is no transport to find and messages go out unthrottled, as before.
"""
import asyncio
import functools

from zope.interface import implementer

try:
    from twisted.internet.interfaces import IPushProducer
except ImportError:  # pragma: no cover - daphne always brings Twisted
    IPushProducer = None


def daphne_protocol(send):
    """daphne's websocket protocol (autobahn's, on Twisted) under an ASGI `send`, else None.

    daphne hands each application `functools.partial(Server.handle_reply, protocol)`; Channels' session
    middleware wraps it in a bound method whose object keeps the original as `real_send`.
    """
    for _ in range(8):
        if isinstance(send, functools.partial) and send.args:
            return send.args[0]
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def daphne_transport(send):
    """The Twisted transport under an ASGI `send` if it is daphne's, else None."""
    return getattr(daphne_protocol(send), "transport", None)


HIGH_WATER = 8 * 1024 * 1024


class _Gate:
    """A Twisted push producer that calls `pause` and `resume` (daphne's reactor runs on asyncio: on the
    proxy's own loop), and passes every call on to the producer it stands in for (daphne's HTTP channel,
    which stays registered on the transport after the websocket upgrade)."""

    def __init__(self, inner, pause, resume):
        self.inner = inner
        self.pause, self.resume = pause, resume

    def pauseProducing(self):
        self.pause()
        if self.inner is not None:
            self.inner.pauseProducing()

    def resumeProducing(self):
        self.resume()
        if self.inner is not None:
            self.inner.resumeProducing()

    def stopProducing(self):
        self.resume()  # the connection is going: let the proxy run into the closed socket and end
        if self.inner is not None:
            self.inner.stopProducing()


if IPushProducer is not None:
    _Gate = implementer(IPushProducer)(_Gate)


class TransportFlow:
    """`pause()` once more than `high_water` bytes wait in daphne's `transport` to go out, `resume()` once all
    went; `close()` gives the transport back to daphne's own producer."""

    def __init__(self, transport, pause, resume, high_water=HIGH_WATER):
        self.transport = transport
        self.gate = None
        if transport is None or not hasattr(transport, "registerProducer"):
            return
        inner = transport.producer
        if inner is not None and not transport.streamingProducer:
            return  # a pull producer is not ours to stand in for
        self.gate = _Gate(inner, pause, resume)
        if inner is not None:
            transport.unregisterProducer()
        # Paused above high_water bytes, resumed once all went out: a few messages in flight keep the pipe
        # full while the next one is read.
        transport.bufferSize = high_water
        # Twisted hands the kernel at most SEND_LIMIT (128 KiB) per turn of the event loop: larger sends,
        # fewer turns (the kernel takes what fits and Twisted keeps the rest).
        transport.SEND_LIMIT = high_water
        transport.registerProducer(self.gate, True)

    @property
    def active(self):
        return self.gate is not None

    def close(self):
        if self.gate is not None:
            gate, self.gate = self.gate, None
            gate.resume()
            if self.transport.producer is gate:
                self.transport.unregisterProducer()
                if gate.inner is not None and not self.transport.disconnected:
                    self.transport.registerProducer(gate.inner, True)


class Backpressure:
    """`await backpressure.wait()` before each message to the browser; `close()` when the session ends."""

    def __init__(self, send):
        self.writable = asyncio.Event()
        self.writable.set()
        self.flow = TransportFlow(daphne_transport(send), self.writable.clear, self.writable.set)

    @property
    def active(self):
        return self.flow.active

    async def wait(self):
        await self.writable.wait()

    def close(self):
        self.flow.close()
        self.writable.set()
