"""A guest flooding its serial console while the browser reads nothing: what waits for the browser stays
bounded (console/serial_output.py), and once the browser reads, it gets the newest output in order after a
notice of what was left out.

The guest side is a scripted stream: services.serial_session is replaced by a thread that hands 64 MiB to the
console as libvirt's event thread does (a TCG guest writes its COM1 at about 80 KB/s here: far too slow to
fill daphne's and the kernel's buffers). The browser that reads nothing is a closed gate in place of
console.flow.Backpressure, which only daphne's Twisted transport can drive (the communicator has none)."""
import asyncio
import threading
import time

import pytest

from console import consumers, services
from console.serial_output import LIMIT, SerialOutput, dropped_notice
from core.testing.websockets import socket

from .test_consumers import issue, vms, ws  # noqa: F401 - vms is a fixture
from .test_serial_output import pattern

pytestmark = pytest.mark.django_db(transaction=True)
TOTAL, CHUNK = 64 * 1024 * 1024, 64 * 1024


class Gate:
    """Backpressure as daphne gives it while the browser reads nothing: closed until the test opens it."""

    def __init__(self, opened):
        self.opened = opened

    async def wait(self):
        await self.opened.wait()

    def close(self):
        pass


class WatchedOutput(SerialOutput):
    """The consumer's own output buffer, noting the most it ever held."""

    made = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.most = 0
        self.made.append(self)

    def put(self, data):
        super().put(data)
        self.most = max(self.most, self.size)


async def test_it_keeps_at_most_its_limit_for_a_browser_that_reads_nothing(vms, admin_user, monkeypatch):
    opened, flooded = asyncio.Event(), threading.Event()
    monkeypatch.setattr(WatchedOutput, "made", [])
    monkeypatch.setattr(consumers, "Backpressure", lambda send: Gate(opened))
    monkeypatch.setattr(consumers, "SerialOutput", WatchedOutput)

    def scripted_session(instance, console):
        for offset in range(0, TOTAL, CHUNK):
            console.on_data(pattern(offset, CHUNK))  # from this thread, as libvirt's event loop thread calls it
        flooded.set()
        while not console.closed:  # the session lasts until the consumer closes the console
            time.sleep(0.05)

    monkeypatch.setattr(services, "serial_session", scripted_session)
    ticket, _ = await issue(admin_user, vms["web1"], "serial")
    communicator = await socket(ws(vms["web1"], ticket, "serial"), admin_user)
    connected, _ = await communicator.connect()
    assert connected
    # Once the flood is handed over, its last piece has been queued to this loop, ahead of this wake-up.
    await asyncio.get_running_loop().run_in_executor(None, flooded.wait, 60)
    await asyncio.sleep(0)
    (output,) = WatchedOutput.made
    assert output.most == LIMIT and output.dropped == TOTAL - LIMIT
    assert await communicator.receive_nothing(timeout=0.2)  # the gate is closed: nothing went out

    opened.set()  # the browser reads again
    message = await communicator.receive_output(timeout=10)
    assert message["type"] == "websocket.send"
    assert message["bytes"] == dropped_notice(TOTAL - LIMIT) + pattern(TOTAL - LIMIT, LIMIT)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
