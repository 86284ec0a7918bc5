"""Lifecycle on real VMs (the lab: libvirtd + QEMU under TCG), through the API and pages, every result read
back through libvirt on a connection of the test's own (lab_guests.conn), or on disk.

The lab guests have no OS: SeaBIOS finds nothing to boot and the VM keeps running. So an ACPI shutdown or
reboot is sent and ignored, which is exactly the case the page's force-off offer is for.
"""
import os
import uuid as uuidlib

import libvirt
import pytest
from django.urls import reverse
from lxml import etree

from instances.inventory import refresh_one
from instances.models import Instance
from instances.tests.jobs import run_queued
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
RUNNING, PAUSED, SHUTOFF = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_SHUTOFF


def row(host, dom):
    return refresh_one(host, dom.UUIDString())


def post(api, vm, action):
    response = api.post(f"/api/instances/{vm.pk}/{action}/")
    if action in ("save", "restore"):  # jobs: run here as the worker would, on a connection of their own
        job = run_queued(response)
        assert job.status == "succeeded", (action, job.error)
        return job.result
    assert response.status_code == 200, (action, response.content)
    return response.json()


def test_it_drives_a_real_vm_through_every_action(api, lab_host, lab_guests):
    dom = lab_guests.define(start=True)
    vm = row(lab_host, dom)
    assert post(api, vm, "suspend")["state"] == "paused" and dom.state()[0] == PAUSED
    assert post(api, vm, "resume")["state"] == "running" and dom.state()[0] == RUNNING
    qemu_id = dom.ID()
    assert post(api, vm, "reset")["state"] == "running"
    assert dom.state()[0] == RUNNING and dom.ID() == qemu_id  # the same QEMU process, reset in place
    assert post(api, vm, "reboot")["state"] == "running" and dom.state()[0] == RUNNING
    assert post(api, vm, "save")["state"] == "shutoff"
    assert dom.state()[0] == SHUTOFF and dom.hasManagedSaveImage(0) == 1
    assert virsh_domstate(dom) == "shut off (saved)"
    assert post(api, vm, "restore")["state"] == "running"
    assert dom.state()[0] == RUNNING and dom.hasManagedSaveImage(0) == 0
    assert post(api, vm, "destroy")["state"] == "shutoff" and dom.state()[0] == SHUTOFF
    assert post(api, vm, "start")["state"] == "running" and dom.state()[0] == RUNNING
    assert post(api, vm, "autostart_on")["autostart"] is True and dom.autostart() == 1
    assert post(api, vm, "autostart_off")["autostart"] is False and dom.autostart() == 0


def test_it_refuses_what_a_real_vms_state_does_not_allow(api, lab_host, lab_guests):
    dom = lab_guests.define(start=True)
    vm = row(lab_host, dom)
    response = api.post(f"/api/instances/{vm.pk}/start/")
    assert response.status_code == 409 and "running" in response.json()["detail"]
    Instance.objects.filter(pk=vm.pk).update(state="paused")  # a stale row: the host has the last word
    response = api.post(f"/api/instances/{vm.pk}/resume/")
    assert response.status_code == 409 and response.json()["detail"] == "Cannot resume a VM that is running."
    assert dom.state()[0] == RUNNING


def test_it_offers_force_off_when_the_guest_ignores_the_shutdown(admin_client, lab_host, lab_guests, settings):
    dom = lab_guests.define(start=True)
    vm = row(lab_host, dom)
    response = admin_client.post(reverse("instances:instance_shutdown", args=[vm.pk]), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert dom.state()[0] == RUNNING  # asked through ACPI; no OS answers
    settings.INSTANCE_SHUTDOWN_GRACE = 0
    page = admin_client.get(vm.get_absolute_url()).content.decode()
    assert "Shutdown requested at" in page and 'data-action="force-off-offer"' in page
    admin_client.post(reverse("instances:instance_destroy", args=[vm.pk]))
    assert dom.state()[0] == SHUTOFF
    assert 'id="shutdown-pending"' not in admin_client.get(vm.get_absolute_url()).content.decode()


def test_it_stops_three_vms_in_one_bulk_action(api, lab_host, lab_guests):
    doms = [lab_guests.define(start=True) for _ in range(3)]
    ids = [row(lab_host, dom).pk for dom in doms]
    body = api.post("/api/instances/bulk/", {"action": "destroy", "ids": ids}, format="json").json()
    assert body["succeeded"] == 3 and [r["state"] for r in body["results"]] == ["shutoff"] * 3
    assert [dom.state()[0] for dom in doms] == [SHUTOFF] * 3


def test_it_changes_memory_and_vcpus_seen_after_a_restart(api, lab_host, lab_guests):
    dom = lab_guests.define(start=True)  # 256 MiB, 1 vCPU
    vm = row(lab_host, dom)
    response = api.patch(f"/api/instances/{vm.pk}/", {"memory_mib": 384, "vcpus": 2}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["next_boot"] == ["max_memory_mib", "max_vcpus", "memory_mib", "vcpus"]
    assert dom.info()[1] == 256 * 1024 and dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 1  # not yet
    post(api, vm, "destroy")
    post(api, vm, "start")
    _state, max_kib, _current, vcpus, _cpu = dom.info()
    assert max_kib == 384 * 1024 and vcpus == 2
    assert Instance.objects.get(pk=vm.pk).vcpus == 2


@pytest.fixture
def pool(lab_guests, tmp_path):
    """A dir pool of the test's own in tmp_path (removed at the end; its volumes are the test's)."""
    directory = tmp_path / "pool"
    directory.mkdir()
    xml = etree.Element("pool", type="dir")
    etree.SubElement(xml, "name").text = f"vd-test-pool-{uuidlib.uuid4().hex[:8]}"
    etree.SubElement(etree.SubElement(xml, "target"), "path").text = str(directory)
    made = lab_guests.conn.storagePoolDefineXML(etree.tostring(xml, encoding="unicode"), 0)
    made.create(0)
    yield made
    for volume in made.listAllVolumes(0) if made.isActive() else []:
        volume.delete(0)
    if made.isActive():
        made.destroy()
    made.undefine()


def test_it_deletes_a_vm_with_its_volume_and_its_external_snapshot_overlay(api, lab_host, lab_guests, pool):
    name = f"vd-test-{uuidlib.uuid4().hex[:8]}"
    volume_xml = etree.Element("volume")
    etree.SubElement(volume_xml, "name").text = f"{name}.qcow2"
    etree.SubElement(volume_xml, "capacity").text = str(64 * 1024 * 1024)
    etree.SubElement(etree.SubElement(volume_xml, "target"), "format", type="qcow2")
    disk = pool.createXML(etree.tostring(volume_xml, encoding="unicode"), 0).path()
    dom = lab_guests.conn.defineXML(guest.domain_xml(name, disk))
    lab_guests.made.append(dom)
    # An external disk-only snapshot of the shut-off VM: the qcow2 is frozen and an overlay takes the writes.
    snapshot = etree.Element("domainsnapshot")
    etree.SubElement(snapshot, "name").text = "before"
    disks = etree.SubElement(snapshot, "disks")
    etree.SubElement(disks, "disk", name="vda", snapshot="external")
    dom.snapshotCreateXML(etree.tostring(snapshot, encoding="unicode"),
                          libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
    overlay = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode()).find(
        "devices/disk/source").get("file")
    assert overlay != disk and os.path.exists(overlay) and os.path.exists(disk)
    vm = row(lab_host, dom)
    response = api.delete(f"/api/instances/{vm.pk}/?delete_volumes=true")
    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": sorted([disk, overlay]), "left": []}
    assert not os.path.exists(disk) and not os.path.exists(overlay)
    pool.refresh(0)
    assert pool.listAllVolumes(0) == []  # what `virsh vol-list` shows
    with pytest.raises(libvirt.libvirtError):
        lab_guests.conn.lookupByName(name)
    assert not Instance.objects.filter(pk=vm.pk).exists()


def virsh_domstate(dom):
    import subprocess

    uri = dom.connect().getURI()
    return subprocess.run(["virsh", "-c", uri, "domstate", "--reason", dom.name()], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_it_saves_in_a_job_with_progress_on_a_connection_of_its_own(api, lab_host, lab_guests):
    """The job's libvirt work runs on its own connection (Pool.run_long): the shared one stays free for other
    calls; the job log and result come from libvirt's answer."""
    from core.models import Job
    from hosts.connection import pool

    dom = lab_guests.define(start=True)
    vm = row(lab_host, dom)
    opened = []
    real_run_long = type(pool()).run_long

    def spy(self, spec, fn, **kwargs):
        opened.append(spec.key)
        return real_run_long(self, spec, fn, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(pool()), "run_long", spy)
        response = api.post(f"/api/instances/{vm.pk}/save/")
        assert response.status_code == 202 and dom.state()[0] == RUNNING  # nothing done in the request
        job = run_queued(response)
    assert job.status == "succeeded" and job.progress == 100 and opened == [f"host-{lab_host.pk}"]
    assert Job.objects.get(pk=job.pk).result == {"instance": vm.pk, "state": "shutoff"}
    assert virsh_domstate(dom) == "shut off (saved)" and dom.hasManagedSaveImage(0) == 1
