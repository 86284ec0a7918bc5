"""The VNC proxy's pass-through under daphne (console/splice.py: frames in callbacks, no ASGI message), against
the scripted VNC server of test_proxy_flow: the browser's frames reach the server in order, a browser flooding a
server that reads nothing is stopped with daphne's memory flat, and a replayed ticket gets no byte through."""
import asyncio
import os
import struct

import pytest
from django.conf import settings
from django.test import Client
from websockets.exceptions import ConnectionClosed

from console.refusals import Refusal
from core.testing import daphne_process

from .test_proxy_flow import rss, vm, vnc_server, wait_until_stalled  # noqa: F401 - fixtures
from .vnc_client import VncOverWebsocket, connect

pytestmark = pytest.mark.django_db(transaction=True)
FLOOD = 256 * 1024 * 1024


@pytest.fixture
def console(admin_user, vm, tmp_path):  # noqa: F811 - the fixture imported above
    """(daphne's AppProcess, a function giving a fresh (ws URL, origin, cookie) for the VM's VNC console)."""
    env = {"VIRTDECK_TEST_NODE_DIRS": ":".join(settings.VIRTDECK_TEST_NODE_DIRS)}
    with daphne_process(tmp_path, env=env) as (base, daphne):
        client = Client()
        client.force_login(admin_user)

        def open_console():
            body = client.post(f"/api/instances/{vm.pk}/console/", {"kind": "vnc"},
                               content_type="application/json").json()
            url = base.replace("http", "ws", 1) + f"{body['ws_path']}?ticket={body['ticket']}"
            return url, base, f"sessionid={client.cookies['sessionid'].value}"

        yield daphne, open_console


def test_it_passes_the_browsers_frames_to_the_server_in_order_and_drops_text_frames(console, vnc_server):  # noqa: F811
    _, open_console = console
    messages = [os.urandom(size) for size in range(1, 3001, 10)]
    expected = b"".join(messages)
    opened = open_console()

    async def session():
        async with connect(*opened) as ws:
            vnc = VncOverWebsocket(ws)
            await vnc.handshake()
            await ws.send(b"E" + struct.pack(">Q", len(expected)))
            for number, message in enumerate(messages):
                await ws.send(message)
                if number % 10 == 0:
                    await ws.send("a text frame carries nothing for RFB")
            return await vnc.read(len(expected))

    assert asyncio.run(session()) == expected


def test_it_stops_reading_a_browser_that_floods_a_server_reading_nothing(console, vnc_server):  # noqa: F811
    daphne, open_console = console
    piece = bytes(64 * 1024)
    opened = open_console()

    async def session():
        async with connect(*opened, close_timeout=1) as ws:
            await VncOverWebsocket(ws).handshake()
            await ws.send(b"H" + struct.pack(">Q", 0))
            assert await asyncio.to_thread(vnc_server.holding.wait, 30)
            before = rss(daphne.pid)
            sent = [0]

            async def flood():
                while sent[0] < FLOOD:
                    await ws.send(piece)
                    sent[0] += len(piece)

            flooding = asyncio.create_task(flood())
            await asyncio.to_thread(wait_until_stalled, lambda: sent[0], "daphne kept reading the browser")
            grown = rss(daphne.pid) - before
            assert not flooding.done()
            flooding.cancel()
            return sent[0], grown

    sent, grown = asyncio.run(session())
    # What was sent waits in the kernel's socket buffers (both hops), not in daphne.
    assert sent < FLOOD // 2, f"the browser sent {sent} bytes to a server reading none"
    assert grown < 16 * 1024 * 1024, f"daphne grew by {grown} bytes"
    print(f"the browser stalled after {sent / 2**20:.1f} MiB; daphne grew by {grown / 2**20:.1f} MiB")


def test_it_refuses_a_replayed_ticket_before_any_byte_reaches_the_server(console, vnc_server):  # noqa: F811
    _, open_console = console
    url, origin, cookie = open_console()

    async def first():
        async with connect(url, origin, cookie) as ws:
            await VncOverWebsocket(ws).handshake()

    async def replay():
        async with connect(url, origin, cookie) as ws:
            try:  # bytes sent at once, before the ticket is checked: none may reach the VNC server
                await ws.send(b"RFB 003.008\n" + bytes(256 * 1024))
            except ConnectionClosed:
                pass
            await ws.wait_closed()
            return ws.close_code

    asyncio.run(first())
    assert vnc_server.connections == 1
    assert asyncio.run(replay()) == Refusal.USED
    assert vnc_server.connections == 1
