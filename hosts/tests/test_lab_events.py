"""Against the real lab libvirtd + QEMU (TCG): events reach the inventory within 2 s."""
import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.events import GROUP
from core.testing import eventually
from hosts.sync import sync_host
from instances.models import Instance
from virt.networks import delete_network_if_present

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


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


def test_it_follows_a_vm_started_and_destroyed_out_of_band(running_watcher, lab_guests, lab_host):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(GROUP, channel)

    dom = lab_guests.define()
    dom_uuid = dom.UUIDString()
    eventually(lambda: row_state(dom_uuid) == "running", timeout=2, message="row reads running")
    row = Instance.objects.get(uuid=dom_uuid)
    assert row.host == lab_host and row.vcpus == 1 and row.memory_kib == 256 * 1024 and row.persistent

    dom.destroy()
    eventually(lambda: row_state(dom_uuid) == "shutoff", timeout=2, message="row reads shutoff")

    dom.undefine()
    eventually(lambda: row_state(dom_uuid) is None, timeout=2, message="row removed after undefine")

    # The same changes were pushed to open pages over the channel layer.
    seen = async_to_sync(drain)(layer, channel)
    states = [m["data"].get("state") for m in seen if m["kind"] == "instance"]
    assert "running" in states and "shutoff" in states


def test_it_syncs_a_real_qemu_host_with_bulk_stats(lab_host, lab_guests):
    dom = lab_guests.define()
    assert sync_host(lab_host) >= 1
    row = Instance.objects.get(uuid=dom.UUIDString())
    assert (row.state, row.vcpus, row.memory_kib) == ("running", 1, 256 * 1024)
    assert row.cpu_time_ns > 0
    lab_host.refresh_from_db()
    assert lab_host.facts["driver"] == "QEMU" and lab_host.facts["tcg"] is True
    # Cross-check with the capabilities XML as libvirt gives it.
    caps = lab_guests.conn.getCapabilities()
    kvm = "<domain type='kvm'" in caps
    hardware = "<feature name='vmx'/>" in caps or "<feature name='svm'/>" in caps
    expected = ("kvm" if hardware else "kvm-no-vmx") if kvm else "tcg"
    assert lab_host.facts["acceleration"] == expected
    assert lab_host.facts["kernel"] and lab_host.memory_total_kib > 0


def test_it_follows_a_network_defined_started_and_removed_out_of_band(running_watcher, lab, lab_host):
    import uuid

    import libvirt

    from networks.models import Network

    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    direct = libvirt.open(lab["uri"])
    try:
        network = direct.networkDefineXML(f"<network><name>{name}</name></network>")  # isolated, no addresses
        eventually(lambda: Network.objects.filter(host=lab_host, name=name).exists(), timeout=2,
                   message="row appears after define")
        network.create()
        eventually(lambda: Network.objects.get(host=lab_host, name=name).active, timeout=2, message="row reads active")
        assert Network.objects.get(host=lab_host, name=name).bridge == network.bridgeName()
        network.destroy()
        eventually(lambda: not Network.objects.get(host=lab_host, name=name).active, timeout=2,
                   message="row reads inactive")
        network.undefine()
        eventually(lambda: not Network.objects.filter(host=lab_host, name=name).exists(), timeout=2,
                   message="row removed after undefine")
    finally:
        delete_network_if_present(direct, name)
        direct.close()
