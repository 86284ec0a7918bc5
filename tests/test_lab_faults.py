"""Faults on the real lab: a host's libvirtd dies and comes back while virtdeck runs.

hostB of the two-host lab (lab/hosts) is the victim: its libvirtd is killed by its pidfile (QEMU keeps
running, as on a real host whose daemon crashes) and started again by `lab/hosts up`.
"""
import os
import signal
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest

from core.testing import eventually
from hosts.models import Host
from hosts.sync import sync_host
from instances.inventory import refresh_one
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def guest_on_b(two_hosts):
    """A running TCG guest on hostB, its disk in the shared directory; removed at the end."""
    name = f"vd-fault-{uuid.uuid4().hex[:8]}"
    disk = guest.make_disk(two_hosts["shared"], name)
    conn = libvirt.open(two_hosts["b"]["uri"])
    dom = conn.defineXML(guest.domain_xml(name, disk))
    dom.create()
    conn.close()
    yield name
    conn = libvirt.open(two_hosts["b"]["uri"])
    try:
        dom = conn.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    except libvirt.libvirtError:
        pass
    conn.close()
    os.unlink(disk)


def kill_libvirtd(two_hosts, key):
    pidfile = two_hosts["shared"].parent / two_hosts[key]["name"] / "pids" / "libvirtd.pid"
    os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)  # the lab's own daemon, by its pidfile


def state_on(uri, name):
    conn = libvirt.open(uri)
    try:
        return conn.lookupByName(name).state()[0]
    finally:
        conn.close()


def test_it_shows_a_restarted_libvirtd_unreachable_then_reconnects_on_the_next_action(api, make_host, two_hosts,
                                                                                      guest_on_b):
    uri = two_hosts["b"]["uri"]
    host = make_host(host_name="hostB", uri=uri)
    conn = libvirt.open(uri)
    row = refresh_one(host, conn.lookupByName(guest_on_b).UUIDString())
    conn.close()
    assert api.post(f"/api/instances/{row.pk}/suspend/").status_code == 200  # the pooled connection is in use

    kill_libvirtd(two_hosts, "b")
    try:
        assert sync_host(host) is None
        host.refresh_from_db()
        assert host.state != Host.State.UP and host.last_error
        answer = api.get(f"/api/hosts/{host.pk}/")
        assert answer.status_code == 200 and answer.json()["state"] == host.state  # the API keeps answering
    finally:
        subprocess.run([str(ROOT / "lab" / "hosts"), "up"], capture_output=True, check=True)

    # The guest outlived its daemon; the next action reconnects by itself and acts on it.
    assert state_on(uri, guest_on_b) == libvirt.VIR_DOMAIN_PAUSED
    resumed = api.post(f"/api/instances/{row.pk}/resume/")
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["state"] == "running" and state_on(uri, guest_on_b) == libvirt.VIR_DOMAIN_RUNNING
    eventually(lambda: sync_host(host) is not None, timeout=30, message="the host synced again")
    host.refresh_from_db()
    assert host.state == Host.State.UP and not host.last_error
