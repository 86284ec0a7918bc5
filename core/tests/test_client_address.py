"""Throttles key on the real client: X-Forwarded-For counts only when a trusted proxy sent it.

Requests go through the whole ASGI application (virtdeck.asgi), with the TCP peer daphne would
report set by `from_peer`: no traffic leaves the process.
"""
import ipaddress
import json

import pytest
from channels.testing import HttpCommunicator

from core.asgi_middleware import forwarded_client
from virtdeck.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "/api/auth/token/"
PROXY = "10.0.0.2"


def from_peer(peer):
    """The application as reached over TCP from `peer`."""
    async def app(scope, receive, send):
        return await application({**scope, "client": [peer, 40000]}, receive, send)
    return app


async def guess_password(peer, forwarded_for=None):
    body = json.dumps({"username": "admin", "password": "guess"}).encode()
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    response = await HttpCommunicator(from_peer(peer), "POST", TOKEN, body=body, headers=headers).get_response(10)
    return response["status"]


@pytest.fixture
def trusted_proxy(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]


async def test_it_throttles_an_untrusted_client_that_sends_a_new_forwarded_for_each_time(admin_user):
    statuses = [await guess_password("198.51.100.7", forwarded_for=f"192.0.2.{i}") for i in range(11)]
    assert statuses == [400] * 10 + [429]


async def test_it_throttles_the_address_a_trusted_proxy_forwarded_for(admin_user, trusted_proxy):
    statuses = [await guess_password(PROXY, forwarded_for="203.0.113.5") for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    assert await guess_password(PROXY, forwarded_for="203.0.113.6") == 400  # another client behind the proxy


async def test_it_ignores_what_a_client_prepends_to_a_trusted_proxys_header(admin_user, trusted_proxy):
    # The proxy appends the address it saw; whatever the client wrote before it is the client's own claim.
    statuses = [await guess_password(PROXY, forwarded_for=f"192.0.2.{i}, 203.0.113.5") for i in range(11)]
    assert statuses == [400] * 10 + [429]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [("198.51.100.7", "203.0.113.5", "198.51.100.7"),       # not a proxy: header ignored
     ("10.0.0.2", None, "10.0.0.2"),                        # proxy, no header
     ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
     ("10.0.0.2", "203.0.113.5, 10.0.0.3", "203.0.113.5"),  # two trusted hops
     ("10.0.0.2", "10.0.0.9, 10.0.0.3", "10.0.0.9"),        # only proxies: the farthest
     ("10.0.0.2", "not-an-ip", "10.0.0.2"),
     ("10.0.0.2", "203.0.113.5, garbage", "10.0.0.2"),
     ("10.0.0.2", "garbage, 203.0.113.5", "203.0.113.5"),
     ("10.0.0.2", "", "10.0.0.2"),
     ("10.0.0.2", " , ,", "10.0.0.2"),
     ("10.0.0.2", "2001:db8::1", "2001:db8::1"),
     ("::ffff:10.0.0.2", "203.0.113.5", "203.0.113.5"),    # IPv4 proxy seen on a dual-stack socket
     ("10.0.0.2", "203.0.113.5:4711", "10.0.0.2"),          # ports are not part of X-Forwarded-For
     ("10.0.0.2", "1" * 10_000, "10.0.0.2")],
)
def test_it_resolves_the_client_through_trusted_proxies_only(trusted_proxy, peer, forwarded_for, client):
    assert forwarded_client(peer, forwarded_for) == client
