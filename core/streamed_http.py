"""Routes whose request or response body streams through daphne a piece at a time (volume upload/download).

daphne (Twisted's Request) writes a whole request body into a temporary file before the ASGI application
sees any of it, and Django's ASGI handler spools it once more; and daphne writes a response body to the
socket without backpressure, so a slow client makes it queue the rest in memory. For the routes in
settings.STREAMED_ROUTES ((method, path regex) pairs), StreamingHTTPChannel takes the request over once its
headers are in: Django's WSGI handler runs it in a thread of its own, with the whole middleware stack
(session, CSRF, audit, login) and DRF's authentication and permissions as for any request, reading the body
from a BodyPipe the socket feeds and writing the response under the socket's flow control:

- the socket is not read while the pipe holds PIPE_HIGH bytes, and is read again below PIPE_LOW;
- the thread waits while Twisted's send buffer is full (the channel is the transport's push producer).

Why not a second ASGI server that streams bodies (uvicorn) for these routes: it needs its own port and a
proxy in front to split the routes, and a sync view still needs a thread bridging it to async I/O. Here it
stays one process, one port, the same cookies and middleware, and Twisted's own producer/consumer flow
control (as console/flow.py uses for websockets). It relies on Twisted's HTTPChannel internals (daphne and
Twisted are pinned; tests in core/tests/test_streamed_http.py and storage/tests/test_lab_transfer.py).

A client that sends nothing (or reads nothing) for settings.STREAMED_IDLE_SECONDS while the server waits for it
is disconnected; waiting for the host does not count. A body must announce its Content-Length (a chunked one
goes the ordinary way, where the 4 MiB limit applies). "Expect: 100-continue" is answered when the view starts
reading, so a refusal comes before any body is sent. A streamed request is answered once, then the connection
closes (no keep-alive).
"""
import logging
import re
import sys
import threading
from collections import deque
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import UnreadablePostError
from django.utils.translation import gettext as _

from .asgi_middleware import forwarded_client
from .server_limits import LimitedHTTPChannel

log = logging.getLogger(__name__)
PIPE_HIGH = 4 * 1024 * 1024
PIPE_LOW = 1024 * 1024
# The socket's read size and send-buffer mark on a streamed connection (Twisted's default, 64 KiB, costs four
# trips through the reactor and HTTPChannel per libvirt stream piece).
SOCKET_BUFFER = 256 * 1024
# Response pieces handed to the reactor and not yet written: the thread does not wait for each write's turn.
WRITES_IN_FLIGHT = 4
# In request.META of a streamed request: its body is read by the view as it arrives, by nothing before.
STREAMED_BODY = "virtdeck.streamed_body"
_handler = None


def wsgi_handler():
    global _handler
    if _handler is None:
        from django.core.handlers.wsgi import WSGIHandler

        _handler = WSGIHandler()
    return _handler


def streamed_route(method, path):
    """Whether a request line's method and path (bytes, query included) is one of settings.STREAMED_ROUTES."""
    path = unquote_to_bytes(path.split(b"?", 1)[0]).decode("latin-1")
    return any(method == route_method.encode() and re.fullmatch(pattern, path)
               for route_method, pattern in settings.STREAMED_ROUTES)


class BodyPipe:
    """A request body between the reactor (feed) and the request's thread (read): at most about PIPE_HIGH
    bytes wait in it; a file-like object for wsgi.input."""

    def __init__(self, length, pause, resume, first_read):
        self.length = length
        self._pause, self._resume, self._first_read = pause, resume, first_read
        self._pieces = deque()
        self._buffered = 0
        self.received = 0
        self._paused = False
        self._read_started = False
        self._error = None
        self._ready = threading.Condition()

    @property
    def complete(self):
        return self.received >= self.length

    def feed(self, data):
        """Reactor side: bytes from the socket (those past Content-Length are dropped: no pipelining here)."""
        with self._ready:
            if self._error is not None:
                return
            data = data[:self.length - self.received]
            if not data:
                return
            self._pieces.append(data)
            self._buffered += len(data)
            self.received += len(data)
            self._ready.notify_all()
            pause = self._buffered >= PIPE_HIGH and not self._paused
            if pause:
                self._paused = True
        if pause:
            self._pause()

    def abort(self, reason):
        """Make the reader fail with `reason` (the client went away, the job was cancelled): UnreadablePostError."""
        with self._ready:
            if self._error is None:
                self._error = reason
            self._ready.notify_all()

    def client_gone(self):
        if not self.complete:
            self.abort(_("the client closed the connection"))

    def read(self, size=-1):
        """Thread side: up to `size` bytes (all that is left if -1), waiting for some; b"" at the end."""
        if not self._read_started:
            self._read_started = True
            self._first_read()
        wanted = self.length if size is None or size < 0 else size
        with self._ready:
            while not self._pieces and not self.complete and self._error is None:
                self._ready.wait()
            if self._error is not None:
                raise UnreadablePostError(self._error)
            parts, taken = [], 0
            while self._pieces and taken < wanted:
                piece = self._pieces.popleft()
                if taken + len(piece) > wanted:
                    self._pieces.appendleft(piece[wanted - taken:])
                    piece = piece[:wanted - taken]
                parts.append(piece)
                taken += len(piece)
            self._buffered -= taken
            resume = self._paused and self._buffered <= PIPE_LOW
            if resume:
                self._paused = False
        if resume:
            self._resume()
        return b"".join(parts)

    def readline(self, size=-1):
        """wsgi.input's readline (Django's LimitedStream wants it): up to a newline, at most `size` bytes (or
        PIPE_LOW: a longer line comes in parts)."""
        limit = PIPE_LOW if size is None or size < 0 else size
        line = b""
        while len(line) < limit and not line.endswith(b"\n"):
            data = self.read(limit - len(line))
            if not data:
                break
            end = data.find(b"\n") + 1
            if end and end < len(data):
                with self._ready:  # put back what follows the newline
                    self._pieces.appendleft(data[end:])
                    self._buffered += len(data) - end
                data = data[:end]
            line += data
        return line


def body_abort(request):
    """For a streamed request: a callable(reason) that fails its body's pending and next reads (a cancelled
    upload stops waiting for a client that sends nothing); None for any other request."""
    return request.META["wsgi.input"].abort if request.META.get(STREAMED_BODY) else None


def wsgi_environ(channel, request, method, path, version, length, body):
    """PEP 3333 environ of a request whose headers Twisted parsed; REMOTE_ADDR as core.asgi_middleware sets it."""
    raw_path, _, query = path.partition(b"?")
    peer, host = channel.transport.getPeer(), channel.transport.getHost()
    environ = {
        "REQUEST_METHOD": method.decode("ascii"), "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"), "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": getattr(host, "host", "localhost"), "SERVER_PORT": str(getattr(host, "port", 0)),
        "SERVER_PROTOCOL": version.decode("ascii"), "CONTENT_LENGTH": str(length),
        "wsgi.version": (1, 0), "wsgi.url_scheme": "https" if channel.isSecure() else "http",
        "wsgi.input": body, "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False, STREAMED_BODY: True,
    }
    for name, values in request.requestHeaders.getAllRawHeaders():
        key = name.decode("latin-1").upper()
        if "_" in key:
            continue  # X_Forwarded_For would pass for X-Forwarded-For once dashes become underscores
        key = key.replace("-", "_")
        # Several Cookie headers join with "; " (as Django's ASGI handler does), others with ",".
        value = ("; " if key == "COOKIE" else ",").join(v.decode("latin-1") for v in values)
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if key == "CONTENT_TYPE":
                environ[key] = value
            continue
        environ[f"HTTP_{key}"] = value
    environ["REMOTE_ADDR"] = forwarded_client(getattr(peer, "host", ""), environ.get("HTTP_X_FORWARDED_FOR", ""))
    return environ


class ClientGone(Exception):
    pass


class Exchange:
    """One streamed request: its body pipe, the thread running Django, the response written back."""

    def __init__(self, channel, request, method, path, version, length):
        from twisted.internet import reactor

        self.reactor = reactor
        self.channel = channel
        self.gone = False
        self.writable = threading.Event()
        self.writable.set()
        self._in_flight = threading.BoundedSemaphore(WRITES_IN_FLIGHT)
        expects = (request.requestHeaders.getRawHeaders(b"expect") or [b""])[0].lower() == b"100-continue"
        self.body = BodyPipe(
            length,
            pause=self._pause_reading,
            resume=lambda: reactor.callFromThread(self._resume_reading),
            first_read=self._continue if expects and version == b"HTTP/1.1" else lambda: None,
        )
        self.environ = wsgi_environ(channel, request, method, path, version, length, self.body)

    def _continue(self):
        """The client asked whether to send its body: the view has started reading it, so yes."""
        self.reactor.callFromThread(self._write, b"HTTP/1.1 100 Continue\r\n\r\n")

    def start(self):
        threading.Thread(target=self._run, name="streamed-http", daemon=True).start()

    # reactor side

    def _pause_reading(self):
        self.channel.transport.pauseProducing()
        self.channel.setTimeout(None)  # waiting for the host, not for the client

    def _resume_reading(self):
        if not self.gone and not self.channel._refused:
            self.channel.transport.resumeProducing()
            if not self.body.complete:
                self.channel.setTimeout(settings.STREAMED_IDLE_SECONDS)

    def _write(self, data):
        if not self.gone:
            self.channel.transport.write(data)  # may call channel.pauseProducing (writable cleared) at once

    def _write_piece(self, data):
        try:
            self._write(data)
        finally:
            self._in_flight.release()

    def _done(self):
        if self.gone:
            return
        # The channel is the transport's push producer. Were the last writes to pause it, the transport, once
        # it has flushed them, would resume it instead of closing: a (half-)close after that never happened and
        # the client waited for the end of the response forever (Twisted's loseConnection: "unregister your
        # producer when it's finished, or the connection will never close"). Nothing produces after this.
        self.channel.transport.unregisterProducer()
        if self.body.complete:
            self.channel.transport.loseConnection()  # after what is buffered is sent
        else:
            # Answered before the whole body came (a refusal): the client may still be sending.
            self.body.abort(_("the request was answered before its body arrived"))
            self.channel.answer_and_linger(b"")

    # thread side

    def _send(self, data):
        """Hand `data` to the reactor once the socket takes more: at most WRITES_IN_FLIGHT pieces wait there."""
        while not (self.writable.wait(0.5) and self._in_flight.acquire(timeout=0.5)):
            if self.gone:
                raise ClientGone()
        if self.gone:
            self._in_flight.release()
            raise ClientGone()
        self.reactor.callFromThread(self._write_piece, data)

    def _run(self):
        started = {}

        def start_response(status, headers, exc_info=None):
            started["head"] = (f"HTTP/1.1 {status}\r\n" + "".join(
                f"{name}: {value}\r\n" for name, value in headers if name.lower() != "connection")
                + "Connection: close\r\n\r\n").encode("latin-1")

        head_sent = False
        try:
            response = wsgi_handler()(self.environ, start_response)
            try:
                # A HEAD answer has no body: the content (a generator that would start a download) is never run.
                for chunk in response if self.environ["REQUEST_METHOD"] != "HEAD" else ():
                    if not head_sent:
                        self._send(started["head"])
                        head_sent = True
                    if chunk:
                        self._send(chunk)
            finally:
                response.close()
            if not head_sent:
                self._send(started["head"])
        except ClientGone:
            pass
        except Exception:  # noqa: BLE001 - answer what can still be answered; the thread must not die silently
            log.exception("streamed request %s %s failed", self.environ["REQUEST_METHOD"], self.environ["PATH_INFO"])
            if not head_sent and not self.gone:
                try:
                    self._send(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except ClientGone:
                    pass
        if not self.gone:
            self.reactor.callFromThread(self._done)


class StreamingHTTPChannel(LimitedHTTPChannel):
    """daphne's HTTP channel (with virtdeck's limits), taking over the requests of settings.STREAMED_ROUTES."""

    _exchange = None

    def allHeadersReceived(self):
        if self.length is not None and streamed_route(self._command, self._path):
            request = self.requests.pop()  # daphne never sees it
            self.transport.bufferSize = SOCKET_BUFFER
            self._exchange = Exchange(self, request, self._command, self._path, self._version, self.length)
            self._exchange.start()
            self.setTimeout(settings.STREAMED_IDLE_SECONDS)  # a client that stops sending is dropped
            return
        super().allHeadersReceived()

    def rawDataReceived(self, data):
        if self._exchange is None:
            super().rawDataReceived(data)
        elif not self._refused:
            self._exchange.body.feed(data)
            if self._exchange.body.complete:
                self.setTimeout(None)  # the body is in; the answer may take long (as Twisted does)

    def allContentReceived(self):
        if self._exchange is None:
            super().allContentReceived()
        else:
            self.setTimeout(None)  # no body (a download): the answer may take long
            self.setRawMode()  # anything more the client sends is ignored: the connection closes after

    # The transport calls these as our writes fill / drain its send buffer.

    def pauseProducing(self):
        if self._exchange is None:
            super().pauseProducing()
        else:
            self._exchange.writable.clear()
            self.setTimeout(settings.STREAMED_IDLE_SECONDS)  # a client that stops reading is dropped

    def resumeProducing(self):
        if self._exchange is None:
            super().resumeProducing()
        else:
            self._exchange.writable.set()
            self.setTimeout(None)

    def connectionLost(self, reason):
        if self._exchange is not None:
            self._exchange.gone = True
            self._exchange.writable.set()
            self._exchange.body.client_gone()
        super().connectionLost(reason)
