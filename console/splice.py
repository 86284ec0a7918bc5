"""The VNC proxy's way around ASGI under daphne: binary frames straight between daphne's websocket and the
VNC server's connection, in the callbacks that read them.

Through ASGI every frame is a message dict, a hop through daphne's application queue, a wake-up of the
consumer's task and, on the way out, autobahn joining the frame's header to its payload and Twisted joining
its buffer again before the kernel sees it. daphne's reactor runs on the proxy's own asyncio loop, so once the
connection is authorised and both RFB handshakes are done (console.consumers), the proxy instead:

- takes the browser's binary frames where autobahn hands them to daphne (its protocol's onMessage) and
  writes them to the VNC server at once;
- writes each read from the VNC server as one websocket frame: header and payload in one sendmsg() on the
  socket while nothing waits in Twisted's buffer, else (and whatever the kernel did not take) into that
  buffer, behind what waits there (autobahn's pings and close frame go the same way);
- flow control both ways: reading from the VNC server stops while more than HIGH_WATER bytes wait in Twisted's
  buffer (console.flow), and reading from the browser stops while the VNC server's connection does not take
  more (asyncio's or asyncssh's write buffer limits).

Outside daphne (Channels' test communicator, another ASGI server) `BrowserLink(...).active` is False and the
consumer keeps to ASGI messages.
"""
import struct

from core.twisted_sockets import idle_socket

from .flow import daphne_protocol

# Bytes waiting in Twisted's buffer before the proxy stops reading from the VNC server; the kernel's socket
# buffer holds more, so the pipe stays full while Twisted empties this.
HIGH_WATER = 1024 * 1024


def frame_header(length):
    """RFC 6455 header of one final, unmasked (a server's) binary frame of `length` payload bytes."""
    if length < 126:
        return bytes((0x82, length))
    if length < 65536:
        return struct.pack("!BBH", 0x82, 126, length)
    return struct.pack("!BBQ", 0x82, 127, length)


class BrowserLink:
    """The browser's side of a VNC proxy under daphne: `send(data)` frames bytes to it, and every binary frame
    it sends goes to `deliver(payload)` (text frames carry nothing for RFB) from the moment this is made."""

    def __init__(self, send, deliver):
        protocol = daphne_protocol(send)
        if protocol is None or not hasattr(protocol, "sendMessage") or not hasattr(protocol, "onMessage"):
            self.protocol = None
            return
        self.protocol = protocol
        self.deliver = deliver
        self.reading = True
        protocol.onMessage = self._message  # on the instance: ahead of daphne's own, which queues an ASGI message

    @property
    def active(self):
        return self.protocol is not None

    @property
    def transport(self):
        return self.protocol.transport

    def _message(self, payload, is_binary):
        if is_binary:
            self.deliver(payload)

    def pause_reading(self):
        if self.reading:
            self.reading = False
            self.protocol.transport.pauseProducing()

    def resume_reading(self):
        if not self.reading:
            self.reading = True
            self.protocol.transport.resumeProducing()

    def send(self, data):
        """`data` as one binary frame, after whatever waits to go out before it."""
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return  # closing: autobahn sends nothing more either
        header = frame_header(len(data))
        transport = protocol.transport
        sock = idle_socket(transport)
        if sock is None:
            transport.writeSequence((header, data))
            return
        try:
            sent = sock.sendmsg((header, data))
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            sent = 0  # Twisted's own write meets the error and closes the connection as it always does
        if sent < len(header):
            transport.writeSequence((header[sent:], data))
        elif sent < len(header) + len(data):
            transport.write(data[sent - len(header):])

    def close(self):
        """Give the browser's frames back to daphne (the session is over; the websocket may still close)."""
        if self.protocol is not None:
            self.protocol.__dict__.pop("onMessage", None)
            self.resume_reading()
