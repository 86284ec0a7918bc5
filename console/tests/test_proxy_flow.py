"""The VNC proxy through daphne against a scripted VNC server on 127.0.0.1 (no lab: the VM is a test-driver
domain whose live XML puts VNC on that server's port): VNC authentication checked by the server with an
independent DES, every byte (128 MiB) passed through in order, and a browser that reads nothing stalls the server."""
import asyncio
import os
import re
import struct
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from django.conf import settings
from django.test import Client
from lxml import etree

from core.testing import daphne_process, eventually
from instances.models import Instance

from .vnc_client import VncOverWebsocket, connect

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pass1234"
UUID = "0be4c400-0000-4000-8000-00000000f10e"
TOTAL = 128 * 1024 * 1024


def pattern(offset, length):
    """Bytes offset..offset+length of the stream the server sends: every byte is its position mod 251."""
    start = offset % 251
    block = bytes(range(251)) * (length // 251 + 2)
    return block[start:start + length]


class ScriptedVncServer:
    """RFB 3.8 with VNC authentication only; after ServerInit, commands of 9 bytes: 'T' + u64 sends that many
    pattern bytes, 'E' + u64 echoes that many bytes back, 'H' holds: reads nothing more."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.sent = 0
        self.auth_ok = None
        self.connections = 0
        self.holding = threading.Event()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.released = asyncio.Event()
        self.serving = set()
        self.server = self.loop.run_until_complete(asyncio.start_server(self.serve, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def serve(self, reader, writer):
        self.connections += 1
        self.serving.add(asyncio.current_task())
        try:
            writer.write(b"RFB 003.008\n")
            await reader.readexactly(12)
            writer.write(bytes([1, 2]))
            assert await reader.readexactly(1) == bytes([2])
            challenge = os.urandom(16)
            writer.write(challenge)
            # Independent of console.rfb: DES with the password's bytes bit-reversed, decrypting the answer.
            key = bytes(int(f"{b:08b}"[::-1], 2) for b in PASSWORD.encode())
            decryptor = Cipher(TripleDES(key * 3), modes.ECB()).decryptor()
            self.auth_ok = decryptor.update(await reader.readexactly(16)) + decryptor.finalize() == challenge
            writer.write(struct.pack(">I", 0 if self.auth_ok else 1))
            await reader.readexactly(1)  # ClientInit
            writer.write(struct.pack(">HHxxxxxxxxxxxxxxxxI", 64, 48, 4) + b"test")
            while True:
                command = await reader.readexactly(9)
                count = struct.unpack(">Q", command[1:])[0]
                if command[:1] == b"T":
                    while self.sent < count:
                        piece = pattern(self.sent, min(256 * 1024, count - self.sent))
                        writer.write(piece)
                        await writer.drain()
                        self.sent += len(piece)
                elif command[:1] == b"E":
                    writer.write(await reader.readexactly(count))
                else:
                    assert command[:1] == b"H"
                    self.holding.set()
                    await self.released.wait()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _shutdown(self):
        self.released.set()
        self.server.close()
        for task in self.serving:
            task.cancel()
        await asyncio.gather(*self.serving, return_exceptions=True)

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def vnc_server():
    server = ScriptedVncServer()
    yield server
    server.stop()


@pytest.fixture
def vm(node_dir, make_host, vnc_server):
    node = etree.Element("node")
    dom = etree.SubElement(node, "domain", type="test")
    etree.SubElement(dom, "name").text = "flow"
    etree.SubElement(dom, "uuid").text = UUID  # the same in daphne's own copy of the node
    etree.SubElement(dom, "memory").text = "262144"
    etree.SubElement(etree.SubElement(dom, "os"), "type").text = "hvm"
    etree.SubElement(etree.SubElement(dom, "devices"), "graphics", type="vnc", port=str(vnc_server.port),
                     autoport="no", listen="127.0.0.1", passwd=PASSWORD)
    path = node_dir / "flow.xml"
    path.write_bytes(etree.tostring(node))
    make_host("flow", uri=f"test://{path}")
    return Instance.objects.get(uuid=UUID)


def test_it_passes_every_byte_and_stalls_the_server_while_the_browser_reads_nothing(admin_user, vm, vnc_server,
                                                                                   tmp_path):
    env = {"VIRTDECK_TEST_NODE_DIRS": ":".join(settings.VIRTDECK_TEST_NODE_DIRS)}
    with daphne_process(tmp_path, env=env) as (base, daphne):
        client = Client()
        client.force_login(admin_user)
        body = client.post(f"/api/instances/{vm.pk}/console/", {"kind": "vnc"}, content_type="application/json").json()
        url = base.replace("http", "ws", 1) + f"{body['ws_path']}?ticket={body['ticket']}"

        async def session():
            # A small queue in the client library: the bytes waiting are the proxy's and the kernel's.
            async with connect(url, base, f"sessionid={client.cookies['sessionid'].value}", max_queue=1) as ws:
                vnc = VncOverWebsocket(ws)
                width, height, name = await vnc.handshake()
                assert (width, height, name) == (64, 48, "test") and vnc_server.auth_ok
                before = rss(daphne.pid)
                await ws.send(b"T" + struct.pack(">Q", TOTAL))
                # The browser reads nothing: the server's writes must stall well before the end.
                await asyncio.to_thread(wait_until_stalled, lambda: vnc_server.sent, "the VNC server kept writing")
                stalled_at = vnc_server.sent
                grown = rss(daphne.pid) - before
                # What was sent waits in the kernel's socket buffers (both hops), not in daphne.
                assert grown < 16 * 1024 * 1024, f"daphne grew by {grown} bytes with {stalled_at} waiting"
                received = 0
                while received < TOTAL:  # checked piece by piece, kept nowhere: this process's memory stays flat
                    data = await asyncio.wait_for(ws.recv(), 60)
                    assert data == pattern(received, len(data)), f"bytes differ after {received}"
                    received += len(data)
                return stalled_at, received

        stalled_at, received = asyncio.run(session())
    assert received == TOTAL == vnc_server.sent
    assert stalled_at < TOTAL // 2, f"the server wrote {stalled_at} of {TOTAL} bytes to a browser reading none"
    print(f"the server stalled after {stalled_at / 2**20:.1f} MiB of {TOTAL / 2**20:.0f} MiB; all passed in order")


def rss(pid):
    """Resident memory of a process, in bytes."""
    return int(re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text()).group(1)) * 1024


def wait_until_stalled(count, message):
    """Until count() (bytes a writer has written) has not moved for half a second (it is blocked on TCP)."""
    seen = [-1, time.monotonic()]

    def stalled():
        if count() != seen[0]:
            seen[0], seen[1] = count(), time.monotonic()
            return False
        return time.monotonic() - seen[1] > 0.5

    eventually(stalled, timeout=60, interval=0.05, message=message)


@pytest.mark.parametrize("ending", ["logout", "disabled"])
async def test_it_closes_the_console_when_its_session_logs_out_or_the_user_is_disabled(admin_user, vm, monkeypatch,
                                                                                      ending):
    from asgiref.sync import sync_to_async
    from django.contrib.sessions.models import Session

    from console import tickets
    from console.consumers import ConsoleConsumer
    from console.refusals import Refusal
    from core.testing.websockets import socket

    monkeypatch.setattr(ConsoleConsumer, "RECHECK", 0.2)
    client = Client()
    ticket, _ = await sync_to_async(tickets.issue)(admin_user, vm, "vnc")
    communicator = await socket(f"/ws/instances/{vm.pk}/vnc/?ticket={ticket}", admin_user, client=client)
    session_key = client.cookies["sessionid"].value
    connected, _ = await communicator.connect()
    assert connected
    # The proxy did its handshake with the server: the browser's side starts, and stays open.
    assert (await communicator.receive_output(timeout=10))["bytes"] == b"RFB 003.008\n"
    assert await communicator.receive_nothing(timeout=0.6)
    if ending == "logout":
        await sync_to_async(client.logout)()
        assert not await sync_to_async(Session.objects.filter(session_key=session_key).exists)()
    else:
        admin_user.is_active = False
        await sync_to_async(admin_user.save)()
    message = await communicator.receive_output(timeout=10)
    assert message["type"] == "websocket.close" and message["code"] == Refusal.NOT_LOGGED_IN
    await communicator.disconnect()


class CommunicatorSocket:
    """Channels' WebsocketCommunicator with the recv()/send() of a websockets client, for VncOverWebsocket."""

    def __init__(self, communicator):
        self.communicator = communicator

    async def recv(self):
        message = await self.communicator.receive_output(timeout=10)
        assert message["type"] == "websocket.send", message
        return message["bytes"]

    async def send(self, data):
        await self.communicator.send_to(bytes_data=data)


async def test_it_passes_bytes_as_asgi_messages_without_daphne(admin_user, vm, vnc_server):
    """No daphne under Channels' communicator: the consumer relays ASGI messages both ways (VncConsumer.relay)."""
    from asgiref.sync import sync_to_async

    from console import tickets
    from core.testing.websockets import socket

    ticket, _ = await sync_to_async(tickets.issue)(admin_user, vm, "vnc")
    communicator = await socket(f"/ws/instances/{vm.pk}/vnc/?ticket={ticket}")
    connected, _ = await communicator.connect()
    assert connected
    vnc = VncOverWebsocket(CommunicatorSocket(communicator))
    assert await vnc.handshake() == (64, 48, "test") and vnc_server.auth_ok
    payload = os.urandom(100_000)
    await vnc.ws.send(b"E" + struct.pack(">Q", len(payload)))
    for start in range(0, len(payload), 30_000):
        await vnc.ws.send(payload[start:start + 30_000])
    assert await vnc.read(len(payload)) == payload
    await communicator.disconnect()
