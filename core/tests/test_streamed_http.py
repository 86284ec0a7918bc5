"""core/streamed_http.py's parts that need no server: the body pipe's bounds and its reads straight from a socket
(a socket pair), route matching, the WSGI environ.
The whole path through a real daphne is tested in storage/tests/test_lab_transfer.py."""
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from django.http import UnreadablePostError
from twisted.web.http_headers import Headers

from core.streamed_http import PIPE_HIGH, PIPE_LOW, STREAMED_BODY, BodyPipe, streamed_route, wsgi_environ

MIB = 2**20


def pipe(length):
    calls = []
    body = BodyPipe(length, pause=lambda: calls.append("pause"), resume=lambda: calls.append("resume"),
                    first_read=lambda: calls.append("first read"))
    return body, calls


def test_it_stops_reading_the_socket_at_the_high_mark_and_resumes_below_the_low_one():
    body, calls = pipe(8 * MIB)
    for _ in range(PIPE_HIGH // (64 * 1024) + 1):
        body.feed(b"x" * 64 * 1024)
    assert calls == ["pause"]  # once, however much more arrives meanwhile
    body.read(PIPE_HIGH - PIPE_LOW - 1)
    assert calls == ["pause", "first read"]  # still above the low mark
    body.read(2 * 64 * 1024)
    assert calls == ["pause", "first read", "resume"]


def test_it_drops_bytes_past_the_announced_length_and_ends_there():
    body, _ = pipe(10)
    body.feed(b"0123456789-and-more")
    assert body.read() == b"0123456789" and body.read() == b"" and body.complete


def test_it_waits_for_data_and_fails_the_reader_when_the_client_goes():
    body, _ = pipe(100)
    body.feed(b"abc")
    assert body.read(10) == b"abc"
    failure = []

    def reader():
        try:
            body.read(10)
        except UnreadablePostError as exc:
            failure.append(str(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    body.client_gone()
    thread.join(timeout=10)
    assert failure == ["the client closed the connection"]


def test_it_keeps_a_complete_body_readable_after_the_client_closes():
    body, _ = pipe(3)
    body.feed(b"abc")
    body.client_gone()  # sent everything, then closed: the upload still completes
    assert body.read() == b"abc"


def test_it_reads_lines_and_puts_back_what_follows():
    body, _ = pipe(14)
    body.feed(b"one\ntwo\nthree\n")
    assert [body.readline(), body.readline(), body.read()] == [b"one\n", b"two\n", b"three\n"]


@pytest.mark.parametrize("method, path, streamed", [
    (b"PUT", b"/api/storage/volumes/7/upload/", True),
    (b"PUT", b"/api/storage/volumes/7/upload/?x=1", True),
    (b"PUT", b"/api/storage/volumes/%37/upload/", True),  # as Django will route it
    (b"GET", b"/api/storage/volumes/7/download/", True),
    (b"POST", b"/api/storage/volumes/7/upload/", False),
    (b"PUT", b"/api/storage/volumes/7/upload/debian-12.qcow2", True),  # curl -T FILE .../upload/
    (b"PUT", b"/api/storage/volumes/7/upload/a/b", False),
    (b"GET", b"/api/storage/volumes/", False),
])
def test_it_takes_over_only_the_streamed_routes(method, path, streamed):
    assert streamed_route(method, path) is streamed


def test_it_builds_the_environ_django_would_see_without_header_spoofing(settings):
    settings.TRUSTED_PROXIES = []
    address = SimpleNamespace(host="127.0.0.1", port=8000)
    channel = SimpleNamespace(transport=SimpleNamespace(getPeer=lambda: address, getHost=lambda: address),
                              isSecure=lambda: False)
    headers = Headers({b"Content-Type": [b"application/octet-stream"], b"X-Forwarded-For": [b"203.0.113.9"],
                       b"X_Remote_User": [b"admin"], b"Cookie": [b"a=1", b"b=2"]})
    environ = wsgi_environ(channel, SimpleNamespace(requestHeaders=headers), b"PUT", b"/api/x%20y/?q=1",
                           b"HTTP/1.1", 42, None)
    assert environ["PATH_INFO"] == "/api/x y/" and environ["QUERY_STRING"] == "q=1"
    assert environ["CONTENT_LENGTH"] == "42" and environ["CONTENT_TYPE"] == "application/octet-stream"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"  # X-Forwarded-For from an untrusted peer is ignored
    assert "HTTP_X_REMOTE_USER" not in environ and environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ[STREAMED_BODY] is True


def socket_pipe(length, **callbacks):
    """A BodyPipe reading straight from one end of a socket pair (as under daphne on plain TCP), the client's
    end, and the calls it made."""
    server, client = socket.socketpair()
    server.setblocking(False)  # as Twisted keeps it
    calls = []
    body = BodyPipe(length, pause=lambda: calls.append("pause"), resume=lambda: calls.append("resume"),
                    first_read=lambda: None, take_socket=lambda: server,
                    give_back=lambda: calls.append("give back"), drop=lambda: calls.append("drop"), **callbacks)
    return body, server, client, calls


def test_it_reads_whole_pieces_from_the_socket_and_gives_it_back_non_blocking_at_the_end():
    body, server, client, calls = socket_pipe(3 * 100_000)
    with server, client:
        sender = threading.Thread(target=lambda: [client.sendall(b"x" * 1000) or time.sleep(0.0005)
                                                  for _ in range(300)])
        sender.start()
        pieces = [body.read(100_000) for _ in range(3)]
        sender.join()
        assert [len(piece) for piece in pieces] == [100_000] * 3  # not the kernel's small reads
        assert body.complete and calls == ["give back"] and body.read(10) == b""
        assert not server.getblocking()
        assert server.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16) == bytes(16)


def test_it_takes_what_the_reactor_read_before_the_socket():
    body, server, client, calls = socket_pipe(10)
    with server, client:
        body.feed(b"abc")
        client.sendall(b"defghij")
        assert body.read(10) == b"abc" and body.read(10) == b"defghij" and calls == ["give back"]


def test_it_fails_the_reader_and_gives_the_socket_back_when_the_client_closes_early():
    body, server, client, calls = socket_pipe(100)
    with server:
        client.sendall(b"abc")
        client.close()
        assert body.read(3) == b"abc"
        with pytest.raises(UnreadablePostError, match="closed the connection"):
            body.read(10)
        assert calls == ["give back"] and not server.getblocking()


def test_it_hangs_up_on_a_client_that_sends_nothing(settings):
    settings.STREAMED_IDLE_SECONDS = 0.2
    body, server, client, calls = socket_pipe(100)
    with server, client:
        with pytest.raises(UnreadablePostError, match="sent nothing"):
            body.read(10)
        assert calls == ["drop", "give back"]


def test_it_stops_waiting_for_the_client_when_aborted():
    body, server, client, calls = socket_pipe(100)
    with server, client:
        threading.Timer(0.1, body.abort, args=["the upload was cancelled"]).start()
        with pytest.raises(UnreadablePostError, match="cancelled"):
            body.read(10)  # wakes within SOCKET_POLL
        assert calls == ["give back"]
