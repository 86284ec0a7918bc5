"""Request size limits inside daphne, before a body is buffered.

daphne (on Twisted) reads a whole request body to a temporary file and then queues all of it to the
application at once, so neither Django nor an ASGI middleware sees a request before its body is in
memory (a 200 MB body cost daphne about 600 MB). Twisted also drops the connection on a request or
header line longer than 16 KiB. This module gives daphne an HTTP channel that answers instead:

- 413 as soon as the headers announce a body over MAX_REQUEST_BYTES (before any of it is read), or
  when a chunked body passes it while streaming in;
- 414 for a request line (method, URL, version) over MAX_URL_BYTES, or over Twisted's own line limit;
  431 for a header line over that limit.

The answer is JSON under /api/, a short page elsewhere. The rest of the request is read and dropped
for a few seconds (a "lingering close", as nginx does), so that a client still sending its body gets
the answer instead of a connection reset. `install()` (called by virtdeck.asgi) makes daphne use it.
"""
import json
from http import HTTPStatus

from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext as _
from twisted.web import http

# How long a refused client may keep sending (its data is dropped) before the connection is cut.
LINGER_SECONDS = 10


def refusal(status, path):
    """The bytes of a complete HTTP response refusing a request to `path` with `status` (413, 414 or 431)."""
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        detail = _("Request body too large: at most %(limit)d bytes are accepted.") % {
            "limit": settings.MAX_REQUEST_BYTES}
    elif status == HTTPStatus.REQUEST_URI_TOO_LONG:
        detail = _("Request line too long: at most %(limit)d bytes are accepted.") % {
            "limit": settings.MAX_URL_BYTES}
    else:
        detail = _("Request header too long: at most %(limit)d bytes are accepted.") % {
            "limit": http.HTTPChannel.MAX_LENGTH}
    if path.startswith(b"/api/"):
        content_type, body = "application/json", json.dumps({"detail": detail}).encode()
    else:
        title = f"{status.value} {status.phrase}"
        content_type = "text/html; charset=utf-8"
        body = format_html('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title></head>'
                           "<body><h1>{}</h1><p>{}</p></body></html>\n", title, title, detail).encode()
    head = (f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


class LimitedHTTPChannel(http.HTTPChannel):
    """Twisted's HTTP/1.1 channel, refusing requests over virtdeck's size limits (see the module doc)."""

    _refused = False
    _lingering = None

    def refuse(self, status, path=b""):
        if self._refused:
            return
        self.answer_and_linger(refusal(status, path or getattr(self, "_path", b"")))

    def answer_and_linger(self, response):
        """Send `response` (a complete HTTP response, Connection: close) to a client that may still be sending
        its body, then close without a reset (see the module doc)."""
        self._refused = True
        self.transport.write(response)
        # Half-close: the client reads the answer and an end of stream; what it still sends is dropped.
        self.transport.loseWriteConnection()
        self.transport.resumeProducing()  # read (and drop) what it sends, even if reading was paused
        self._lingering = self.callLater(LINGER_SECONDS, self.transport.abortConnection)

    def dataReceived(self, data):
        if not self._refused:
            super().dataReceived(data)

    def lineReceived(self, line):
        if self._refused:
            return
        # _receivedHeaderSize is 0 until the request line of each request has been counted.
        if self._receivedHeaderSize == 0 and len(line) > settings.MAX_URL_BYTES:
            self.refuse(HTTPStatus.REQUEST_URI_TOO_LONG, line.split(b" ")[1] if line.count(b" ") >= 2 else b"")
            return
        super().lineReceived(line)

    def lineLengthExceeded(self, line):
        # Twisted's default is to drop the connection without a word.
        if self._receivedHeaderSize == 0:
            parts = line.split(b" ", 2)
            self.refuse(HTTPStatus.REQUEST_URI_TOO_LONG, parts[1] if len(parts) > 1 else b"")
        else:
            self.refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)

    def allHeadersReceived(self):
        # self.length is the Content-Length, None for a chunked body. Refusing here also keeps Twisted
        # from sending "100 Continue" to a client that asked whether to send its body.
        if self.length is not None and self.length > settings.MAX_REQUEST_BYTES:
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        super().allHeadersReceived()

    def rawDataReceived(self, data):
        if not self._refused:
            super().rawDataReceived(data)

    def allContentReceived(self):
        if not self._refused:
            super().allContentReceived()

    def connectionLost(self, reason):
        if self._lingering is not None and self._lingering.active():
            self._lingering.cancel()
        super().connectionLost(reason)


def limited_request_class(base):
    """daphne's request class, counting a body as it streams in (chunked bodies announce no length)."""

    class LimitedRequest(base):
        body_bytes = 0

        def handleContentChunk(self, data):
            if self.channel is None or self.channel._refused:
                return
            self.body_bytes += len(data)
            if self.body_bytes > settings.MAX_REQUEST_BYTES:
                self.channel.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return
            super().handleContentChunk(data)

    return LimitedRequest


def install(channel=LimitedHTTPChannel):
    """Make daphne's server build `channel` connections: LimitedHTTPChannel or a subclass (daphne is pinned;
    see requirements.txt)."""
    from daphne import http_protocol, server

    if getattr(server.HTTPFactory, "limited", False):
        return

    class LimitedHTTPFactory(http_protocol.HTTPFactory):
        limited = True
        protocol = channel
        request_class = limited_request_class(http_protocol.WebRequest)

        def buildProtocol(self, addr):
            channel = super().buildProtocol(addr)
            channel.requestFactory = self.request_class
            return channel

        def acceptableProtocols(self):
            return [b"http/1.1"]  # the channel speaks HTTP/1.1 only (no HTTP/2 over TLS)

    server.HTTPFactory = LimitedHTTPFactory
