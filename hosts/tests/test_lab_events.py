"""Against the real lab libvirtd + QEMU (TCG): events reach the inventory within 2 s."""
import asyncio
import threading
import uuid

import libvirt
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.events import GROUP
from core.testing import eventually
from hosts.watcher import Watcher
from instances.models import Instance
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab_host(lab, make_host):
    return make_host("lab", uri=lab["uri"])


@pytest.fixture
def watcher(lab_host):
    w = Watcher(rescan_interval=0.5)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    eventually(lambda: lab_host.pk in w.subscriptions, timeout=10, message="watcher subscribed")
    yield w
    w.stop.set()
    thread.join(timeout=10)


@pytest.fixture
def out_of_band(lab, tmp_path):
    """A separate libvirt connection (not virtdeck's) and a TCG guest definition to play with."""
    conn = libvirt.open(lab["uri"])
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    xml = guest.domain_xml(name, guest.make_disk(tmp_path, name))
    made = []
    yield conn, xml, made
    for dom in made:
        try:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        except libvirt.libvirtError:
            pass
    conn.close()


async def drain(layer, channel):
    """Every message waiting on `channel` (stops after 1 s of silence)."""
    seen = []
    while True:
        try:
            seen.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
        except asyncio.TimeoutError:
            return seen


def row_state(dom_uuid):
    row = Instance.objects.filter(uuid=dom_uuid).first()
    return row.state if row else None


def test_it_follows_a_vm_started_and_destroyed_out_of_band(watcher, out_of_band, lab_host):
    conn, xml, made = out_of_band
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(GROUP, channel)

    dom = conn.defineXML(xml)
    made.append(dom)
    dom.create()
    dom_uuid = dom.UUIDString()
    eventually(lambda: row_state(dom_uuid) == "running", timeout=2, message="row reads running")
    row = Instance.objects.get(uuid=dom_uuid)
    assert row.host == lab_host and row.vcpus == 1 and row.memory_kib == 256 * 1024 and row.persistent

    dom.destroy()
    eventually(lambda: row_state(dom_uuid) == "shut off", timeout=2, message="row reads shut off")

    dom.undefine()
    made.remove(dom)
    eventually(lambda: row_state(dom_uuid) is None, timeout=2, message="row removed after undefine")

    # The same changes were pushed to open pages over the channel layer.
    seen = async_to_sync(drain)(layer, channel)
    states = [m["data"].get("state") for m in seen if m["kind"] == "instance"]
    assert "running" in states and "shut off" in states


def test_it_syncs_a_real_qemu_host_with_bulk_stats(lab_host, out_of_band):
    from hosts import services

    conn, xml, made = out_of_band
    dom = conn.defineXML(xml)
    made.append(dom)
    dom.create()
    assert services.sync_host(lab_host) >= 1
    row = Instance.objects.get(uuid=dom.UUIDString())
    assert (row.state, row.vcpus, row.memory_kib) == ("running", 1, 256 * 1024)
    assert row.cpu_time_ns > 0
    lab_host.refresh_from_db()
    assert lab_host.facts["driver"] == "QEMU" and lab_host.facts["tcg"] is True
    assert lab_host.facts["kernel"] and lab_host.memory_total_kib > 0
