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

On a plain TCP connection (no TLS: core.twisted_sockets; settings.STREAMED_DIRECT_IO) the bytes skip the reactor altogether, as virsh's
own loop does: once the view starts reading the body, the reactor stops reading the socket and the thread
that reads it (the one feeding libvirt's stream) receives straight from it until the body is in; and the
response goes from whichever thread writes it straight to the socket, blocking while the kernel's buffer is
full. A hop through the reactor per piece (a wake-up, Twisted's buffer joins, a send of at most 128 KiB) cost
about half of a download's throughput. A view that has a thread of its own produce the body (a libvirt
download) gets that thread writing to the socket through response_sink() instead of a queue to this one.

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
import select
import socket
import struct
import sys
import threading
import time
from collections import deque
from types import SimpleNamespace
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import UnreadablePostError
from django.utils.translation import gettext as _

from .asgi_middleware import forwarded_client
from .server_limits import LimitedHTTPChannel
from .twisted_sockets import idle_socket, plain_socket

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
# How often (seconds) a thread waiting on the socket itself looks whether the request was given up.
SOCKET_POLL = 0.5
_handler = None
_answering = threading.local()


def _timeval(seconds):
    return struct.pack("ll", int(seconds), int(seconds % 1 * 1_000_000))


def response_sink():
    """In the thread answering a streamed request, while its response body is being sent: an object whose
    write(data) sends bytes of the body to the client from any thread (after the response's head, the first
    time), blocking while the client does not take more and raising ClientGone once it is gone. None
    anywhere else (a test client, an ordinary route): there the body is the response's iterator."""
    return getattr(_answering, "sink", None)


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

    def __init__(self, length, pause, resume, first_read, take_socket=lambda: None, give_back=lambda: None,
                 drop=lambda: None):
        self.length = length
        self._pause, self._resume, self._first_read = pause, resume, first_read
        # take_socket(): the socket, once the reactor has stopped reading it, or None (it keeps feeding);
        # give_back(): the reactor reads it again (the body is in, or reading it failed); drop(): close the
        # connection without an answer (a client that sends nothing, as the reactor's idle timeout does).
        self._take_socket, self._give_back, self._drop = take_socket, give_back, drop
        self._socket = None
        self._blocking = False
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
            self._socket = self._take_socket()
        wanted = self.length if size is None or size < 0 else size
        if self._socket is not None:
            with self._ready:
                fed = bool(self._pieces)  # what the reactor read before it let go goes first
            if not fed:
                return self._receive(wanted)
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

    def _receive(self, wanted):
        """read() straight from the socket: `wanted` bytes (fewer at the end of the body, or when the client
        pauses), waiting for them. Whole pieces matter: each is one libvirt stream message, and larger ones
        cost less CPU per byte (virt.streams.UPLOAD_PIECE); a join of smaller reads would copy every byte once more."""
        wanted = min(wanted, self.length - self.received)
        if wanted <= 0:
            return b""
        if not self._blocking:
            # Blocking reads of a whole piece (MSG_WAITALL), woken every SOCKET_POLL seconds (SO_RCVTIMEO) to see
            # whether the request was given up; the reactor gets the socket back non-blocking (let_go).
            self._blocking = True
            self._socket.setblocking(True)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(SOCKET_POLL))
        last_byte = time.monotonic()
        try:
            while True:
                if self._error is not None:
                    raise UnreadablePostError(self._error)
                try:
                    data = self._socket.recv(wanted, socket.MSG_WAITALL)
                except (BlockingIOError, InterruptedError):  # nothing within SOCKET_POLL
                    data = None
                except OSError as exc:
                    self.abort(str(exc))
                    raise UnreadablePostError(self._error) from None
                if data:
                    break
                if data is not None:  # b"": the client closed its side before the whole body
                    self.client_gone()
                    raise UnreadablePostError(self._error)
                if time.monotonic() - last_byte >= settings.STREAMED_IDLE_SECONDS:
                    self.abort(_("the client sent nothing for %(seconds)g s")
                               % {"seconds": settings.STREAMED_IDLE_SECONDS})
                    self._drop()
                    raise UnreadablePostError(self._error)
        except BaseException:
            self.let_go()
            raise
        with self._ready:
            self.received += len(data)
        if self.complete:
            self.let_go()
        return data

    def let_go(self):
        """No more reads from the socket itself: the reactor reads it again (the body is in, reading it failed,
        or the request is answered)."""
        sock, self._socket = self._socket, None
        if sock is None:
            return
        if self._blocking:
            self._blocking = False
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(0))
                sock.setblocking(False)
            except OSError:
                pass  # closed meanwhile
        self._give_back()

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
        self.reading_directly = False  # a thread reads the body from the socket, not the reactor
        self._direct = None  # the socket the response is written to directly; False: through the reactor
        self._head = None
        self._head_sent = False
        self._write_lock = threading.Lock()
        expects = (request.requestHeaders.getRawHeaders(b"expect") or [b""])[0].lower() == b"100-continue"
        self.body = BodyPipe(
            length,
            pause=self._pause_reading,
            resume=lambda: reactor.callFromThread(self._resume_reading),
            first_read=self._continue if expects and version == b"HTTP/1.1" else lambda: None,
            take_socket=lambda: self._from_reactor(self._take_reading),
            give_back=lambda: reactor.callFromThread(self._give_reading_back),
            drop=self._hang_up,
        )
        self.environ = wsgi_environ(channel, request, method, path, version, length, self.body)

    def _continue(self):
        """The client asked whether to send its body: the view has started reading it, so yes."""
        self.reactor.callFromThread(self._write, b"HTTP/1.1 100 Continue\r\n\r\n")

    def start(self):
        threading.Thread(target=self._run, name="streamed-http", daemon=True).start()

    def _from_reactor(self, fn):
        """fn()'s result, called in the reactor (thread side)."""
        from twisted.internet.threads import blockingCallFromThread

        return blockingCallFromThread(self.reactor, fn)

    # reactor side

    def _take_reading(self):
        if self.gone or self.channel._refused or not settings.STREAMED_DIRECT_IO:
            return None
        sock = plain_socket(self.channel.transport)
        if sock is not None:
            self.reading_directly = True
            self.channel.transport.stopReading()
            self.channel.setTimeout(None)  # the reading thread watches the client instead
        return sock

    def _give_reading_back(self):
        self.reading_directly = False
        if not self.gone:
            self.channel.transport.startReading()  # sees the client close; drops what it sends past the body
            if not self.body.complete:
                self.channel.setTimeout(settings.STREAMED_IDLE_SECONDS)

    def _take_writing(self):
        return None if self.gone or not settings.STREAMED_DIRECT_IO else idle_socket(self.channel.transport)

    def _pause_reading(self):
        if self.reading_directly:
            return
        self.channel.transport.pauseProducing()
        self.channel.setTimeout(None)  # waiting for the host, not for the client

    def _resume_reading(self):
        if not self.gone and not self.channel._refused and not self.reading_directly:
            self.channel.transport.resumeProducing()
            if not self.body.complete:
                self.channel.setTimeout(settings.STREAMED_IDLE_SECONDS)

    def _write(self, data):
        if not self.gone:
            self.channel.transport.write(data)  # may call channel.pauseProducing (writable cleared) at once

    def _write_piece(self, data):
        try:
            self._write(data)
        except Exception:  # noqa: BLE001 - a piece lost here must not pass for a clean end of the response
            log.exception("streamed response to %s lost a piece", self.environ["PATH_INFO"])
            self.gone = True
            self.channel.transport.abortConnection()
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

    def _hang_up(self):
        """Close the connection with no answer (nothing more is written to it from now)."""
        self.gone = True
        self.reactor.callFromThread(self.channel.transport.loseConnection)

    def _write_body(self, data):
        """The response's head (the first time), then `data`: from any thread, one at a time."""
        with self._write_lock:
            if not self._head_sent:
                self._send(self._head)
                self._head_sent = True
            if data:
                self._send(data)

    def _send(self, data):
        if self._direct is None:
            self._direct = self._from_reactor(self._take_writing) or False
        if self._direct:
            self._send_directly(data)
        else:
            self._send_through_reactor(data)

    def _send_directly(self, data):
        """Write `data` to the socket, waiting while the kernel takes no more; a client that takes nothing for
        STREAMED_IDLE_SECONDS is dropped."""
        view = memoryview(data)
        poller = None
        last_taken = time.monotonic()
        while view:
            if self.gone:
                raise ClientGone()
            try:
                sent = self._direct.send(view)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._hang_up()
                raise ClientGone() from None
            if sent:
                view = view[sent:]
                last_taken = time.monotonic()
                continue
            if time.monotonic() - last_taken >= settings.STREAMED_IDLE_SECONDS:
                self._hang_up()
                raise ClientGone()
            if poller is None:
                poller = select.poll()
                poller.register(self._direct, select.POLLOUT)
            poller.poll(SOCKET_POLL * 1000)

    def _send_through_reactor(self, data):
        """Hand `data` to the reactor once the socket takes more: at most WRITES_IN_FLIGHT pieces wait there."""
        data = bytes(data)  # Twisted takes nothing else; a sink's writer may hand over a memoryview it reuses
        while not (self.writable.wait(0.5) and self._in_flight.acquire(timeout=0.5)):
            if self.gone:
                raise ClientGone()
        if self.gone:
            self._in_flight.release()
            raise ClientGone()
        self.reactor.callFromThread(self._write_piece, data)

    def _run(self):
        def start_response(status, headers, exc_info=None):
            self._head = (f"HTTP/1.1 {status}\r\n" + "".join(
                f"{name}: {value}\r\n" for name, value in headers if name.lower() != "connection")
                + "Connection: close\r\n\r\n").encode("latin-1")

        try:
            try:
                response = wsgi_handler()(self.environ, start_response)
            finally:
                self.body.let_go()  # a view may answer without reading all of the body
            _answering.sink = SimpleNamespace(write=self._write_body)
            try:
                # A HEAD answer has no body: the content (a generator that would start a download) is never run.
                for chunk in response if self.environ["REQUEST_METHOD"] != "HEAD" else ():
                    self._write_body(chunk)
            finally:
                _answering.sink = None
                response.close()
            self._write_body(b"")  # the head, if nothing was written
        except ClientGone:
            pass
        except Exception:  # noqa: BLE001 - answer what can still be answered; the thread must not die silently
            log.exception("streamed request %s %s failed", self.environ["REQUEST_METHOD"], self.environ["PATH_INFO"])
            if not self._head_sent and not self.gone:
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
