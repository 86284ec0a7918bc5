"""daphne refuses oversized requests itself: 413 before a body is read, 414 for an over-long URL.

Against a real daphne process (the limits live in its HTTP channel, below the ASGI application),
speaking HTTP/1.1 over raw sockets so that the test controls exactly what is sent and when.
"""
import json
import socket

import pytest
from django.conf import settings

from core.testing import daphne_process

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "/api/auth/token/"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def daphne(django_db_setup, tmp_path_factory):
    with daphne_process(tmp_path_factory.mktemp("daphne")) as (base, service):
        yield int(base.rsplit(":", 1)[1]), service


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=15)


def read_response(sock):
    """Status line, headers (lower-case names) and body of one response on a 'Connection: close' socket."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (h.split(":", 1) for h in header_lines)}
    return int(status_line.split(" ")[1]), headers, body


def peak_rss_kib(pid):
    """VmHWM: the most memory the process has ever had resident."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def post_head(path, length=None, chunked=False):
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n"
            "\r\n").encode()


def test_it_answers_413_to_an_announced_huge_body_before_reading_any_of_it(daphne):
    port, _ = daphne
    with connect(port) as sock:
        # Headers only, asking whether to send the body (curl does this for large bodies).
        sock.sendall(post_head(TOKEN, length=200 * MB).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n"))
        status, headers, body = read_response(sock)
    assert status == 413  # not "100 Continue"
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body) == {"detail": f"Request body too large: at most {settings.MAX_REQUEST_BYTES} bytes "
                                          "are accepted."}


def test_it_refuses_a_200_mb_body_without_holding_it_in_memory(daphne):
    port, service = daphne
    before = peak_rss_kib(service.pid)
    body = b'{"username": "' + b"a" * MB
    with connect(port) as sock:
        sock.sendall(post_head(TOKEN, length=200 * MB))
        for _ in range(200):  # the client sends all of it anyway; daphne reads and drops it
            sock.sendall(body[:MB])
        status, _, _ = read_response(sock)
    assert status == 413
    grown_mb = (peak_rss_kib(service.pid) - before) / 1024
    print(f"daphne's peak RSS grew by {grown_mb:.1f} MB for a refused 200 MB body")
    assert grown_mb < 50  # it grew by ~600 MB when daphne buffered and Django parsed such a body


def test_it_answers_413_when_a_chunked_body_passes_the_limit(daphne):
    port, service = daphne
    before = peak_rss_kib(service.pid)
    chunk = b"%x\r\n%s\r\n" % (MB, b"a" * MB)
    with connect(port) as sock:
        sock.sendall(post_head(TOKEN, chunked=True))
        for _ in range(settings.MAX_REQUEST_BYTES // MB + 1):
            sock.sendall(chunk)
        # No final chunk: the answer must come while the body is still streaming.
        status, headers, body = read_response(sock)
    assert status == 413 and "too large" in json.loads(body)["detail"]
    assert (peak_rss_kib(service.pid) - before) / 1024 < 50


def test_it_answers_413_with_a_short_page_outside_the_api(daphne):
    port, _ = daphne
    with connect(port) as sock:
        sock.sendall(post_head("/hosts/add/", length=settings.MAX_REQUEST_BYTES + 1))
        status, headers, body = read_response(sock)
    assert status == 413 and headers["content-type"] == "text/html; charset=utf-8"
    assert b"<h1>413 Request Entity Too Large</h1>" in body and b"Request body too large" in body


def test_it_still_serves_a_body_just_under_the_limit(daphne, admin_user):
    port, _ = daphne
    padding = " " * (settings.MAX_REQUEST_BYTES - 100)
    body = f'{{"username": "admin", "password": "wrong"{padding}}}'.encode()
    with connect(port) as sock:
        sock.sendall(post_head(TOKEN, length=len(body)).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
                     + body)
        status, _, body = read_response(sock)
    assert status == 400 and b"Unable to log in" in body  # reached DRF, which parsed it


@pytest.mark.parametrize("length", [settings.MAX_URL_BYTES + 1, 20_000, 100_000],
                         ids=["over-virtdecks-limit", "over-twisteds-line-limit", "far-over"])
def test_it_answers_414_to_a_url_over_the_limit(daphne, length):
    port, _ = daphne
    with connect(port) as sock:
        sock.sendall(f"GET /api/hosts/?q={'a' * length} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, headers, body = read_response(sock)
    assert status == 414  # Twisted used to drop the connection on a request line over 16 KiB
    assert json.loads(body) == {"detail": f"Request line too long: at most {settings.MAX_URL_BYTES} bytes "
                                          "are accepted."}


def test_it_answers_431_to_a_header_line_over_twisteds_limit(daphne):
    port, _ = daphne
    with connect(port) as sock:
        sock.sendall(f"GET /api/hosts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {'a' * 20_000}\r\n\r\n".encode())
        status, _, body = read_response(sock)
    assert status == 431  # Twisted used to drop the connection
    assert json.loads(body) == {"detail": "Request header too long: at most 16384 bytes are accepted."}


def test_it_serves_a_long_url_under_the_limit(daphne):
    port, _ = daphne
    with connect(port) as sock:
        sock.sendall(f"GET /login/?next=/{'a' * (settings.MAX_URL_BYTES - 100)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Connection: close\r\n\r\n".encode())
        status, _, _ = read_response(sock)
    assert status == 200


def test_it_keeps_serving_after_refusals(daphne):
    port, service = daphne
    with connect(port) as sock:
        sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, _, _ = read_response(sock)
    assert status == 200
    assert "Traceback" not in service.output()
