"""Snapshots through /api/instances/<id>/snapshots/ on real QEMU guests (the lab's libvirtd, TCG).

Every result is read back without virtdeck: `virsh` (snapshot-list, dumpxml, domstate) and `qemu-img info`
on the image files. libvirt here is 9.0: it cannot revert to external snapshots, so virtdeck's own revert runs.
"""
import json
import subprocess
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from instances.choices import InstanceState
from instances.models import Instance
from instances.tests.jobs import last_job, run_queued

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


@pytest.fixture
def lab_vm(lab, lab_guests, make_host):
    """make(start) -> (virDomain, Instance): a lab guest defined out of band, then seen by a new lab host."""
    made = {}

    def make(start=True):
        dom = lab_guests.define(start=start, prefix="vd-snap")
        host = made.get("host") or make_host("lab", uri=lab["uri"])
        made["host"] = host
        from instances.inventory import refresh_one

        refresh_one(host, dom.UUIDString())
        return dom, Instance.objects.get(host=host, uuid=dom.UUIDString())

    return make


def virsh(lab, *args):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=True).stdout


def snapshot_names(lab, dom):
    return virsh(lab, "snapshot-list", dom.name(), "--name").split()


def disk_source(lab, dom, inactive=False):
    """vda's file, from `virsh dumpxml`."""
    xml = virsh(lab, "dumpxml", dom.name(), *(["--inactive"] if inactive else []))
    return etree.fromstring(xml.encode()).xpath("devices/disk[target/@dev='vda']/source/@file")[0]


def image_chain(path):
    """qemu-img's backing chain of an image, top first (-U: a running QEMU holds its lock)."""
    out = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [entry["filename"] for entry in json.loads(out)]


def image_snapshots(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [s["name"] for s in json.loads(out).get("snapshots", [])]


def url(vm, name=None, action=None):
    return f"/api/instances/{vm.pk}/snapshots/" + (f"{name}/" if name else "") + (f"{action}/" if action else "")


def state_of(vm):
    return Instance.objects.get(pk=vm.pk).state


def done(response):
    """Create, revert and delete are jobs: run the one the 202 answer queued (here, on a connection of its own
    as in the worker); its result."""
    job = run_queued(response)
    assert job.status == "succeeded", job.error
    return job.result


def failed(response):
    """The error of the job the 202 answer queued, which must fail."""
    job = run_queued(response)
    assert job.status == "failed", job.result
    return job.error


def take(api, vm, name, kind):
    done(api.post(url(vm), {"name": name, "kind": kind}, format="json"))
    return api.get(url(vm, name)).json()


def test_it_snapshots_a_running_vm_internally_with_its_memory_reverts_and_deletes(api, lab, lab_vm):
    dom, vm = lab_vm(start=True)
    image = disk_source(lab, dom)

    result = done(api.post(url(vm), {"name": "i1", "kind": "internal", "description": "running"}, format="json"))

    created = api.get(url(vm, "i1")).json()
    assert result["snapshot"] == "i1" and created["memory"] is True and created["state"] == "running"
    assert snapshot_names(lab, dom) == ["i1"] and image_snapshots(image) == ["i1"]
    dom.destroy()
    Instance.objects.filter(pk=vm.pk).update(state=InstanceState.SHUTOFF)

    reverted = done(api.post(url(vm, "i1", "revert")))

    assert reverted["method"] == "native"
    assert reverted["state"] == InstanceState.RUNNING == state_of(vm)  # the row re-read after the revert
    assert virsh(lab, "domstate", dom.name()).strip() == "running"  # the memory came back: it runs again
    deleted = done(api.delete(url(vm, "i1")))
    assert deleted == {"name": "i1", "metadata_only": False, "files_left": [], "instance": vm.pk,
                       "state": "running"}
    assert snapshot_names(lab, dom) == [] and image_snapshots(image) == []


def test_it_snapshots_a_shut_off_vm_internally_and_reverts_it_to_off(api, lab, lab_vm):
    dom, vm = lab_vm(start=False)
    image = disk_source(lab, dom)

    created = take(api, vm, "off", "internal")

    assert created["memory"] is False and created["state"] == "shutoff" and image_snapshots(image) == ["off"]
    dom.create()
    Instance.objects.filter(pk=vm.pk).update(state=InstanceState.RUNNING)
    assert done(api.post(url(vm, "off", "revert")))["state"] == InstanceState.SHUTOFF == state_of(vm)
    assert virsh(lab, "domstate", dom.name()).strip() == "shut off"
    done(api.delete(url(vm, "off")))
    assert snapshot_names(lab, dom) == []


def test_it_refuses_an_internal_snapshot_of_a_raw_disk_with_400_before_queueing(api, lab, lab_guests, lab_vm):
    dom, vm = lab_vm(start=False)
    raw = Path(disk_source(lab, dom)).with_suffix(".raw")
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "16M"], check=True)
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
    disk = root.find("devices/disk")
    disk.find("driver").set("type", "raw")
    disk.find("source").set("file", str(raw))
    lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))

    response = api.post(url(vm), {"name": "i1", "kind": "internal"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"kind": ["Internal snapshots live in qcow2 images, and disk vda is raw: take an "
                                         "external snapshot instead."]}
    assert snapshot_names(lab, dom) == [] and disk_source(lab, dom, inactive=True) == str(raw)
    from core.models import Job
    assert not Job.objects.exists()
    # libvirt says the same when asked (what virtdeck's check spares the user a job for):
    with pytest.raises(libvirt.libvirtError, match="internal snapshot for disk vda unsupported for storage type raw"):
        dom.snapshotCreateXML("<domainsnapshot><name>i1</name></domainsnapshot>", 0)


@pytest.mark.parametrize("running", [True, False], ids=["running", "shut-off"])
def test_it_snapshots_disks_externally_and_merges_the_overlay_back_on_delete(api, lab, lab_vm, running):
    dom, vm = lab_vm(start=running)
    image = disk_source(lab, dom, inactive=True)

    created = take(api, vm, "e1", "external")

    assert created["kind"] == "external" and not created["memory"]
    overlay = disk_source(lab, dom, inactive=True)
    assert overlay != image and Path(overlay).exists() and image_chain(overlay) == [overlay, image]
    assert snapshot_names(lab, dom) == ["e1"]

    deleted = done(api.delete(url(vm, "e1")))

    assert (deleted["metadata_only"], deleted["files_left"]) == (False, [])
    assert disk_source(lab, dom, inactive=True) == image and not Path(overlay).exists()
    assert snapshot_names(lab, dom) == [] and image_chain(image) == [image]
    assert state_of(vm) == (InstanceState.RUNNING if running else InstanceState.SHUTOFF)


def test_it_reverts_a_shut_off_vm_to_an_external_snapshot_itself(api, lab, lab_vm):
    dom, vm = lab_vm(start=True)
    image = disk_source(lab, dom)
    take(api, vm, "e1", "external")
    overlay = disk_source(lab, dom)

    refused = api.post(url(vm, "e1", "revert"))  # running, and libvirt 9.0 cannot do it

    assert refused.status_code == 409 and "shut the VM down first" in refused.json()["detail"]
    assert disk_source(lab, dom) == overlay
    dom.destroy()

    body = done(api.post(url(vm, "e1", "revert")))

    assert body["method"] == "manual" and "Reverted by virtdeck" in body["label"]
    fresh = disk_source(lab, dom, inactive=True)
    assert body["images"] == {"vda": image} and body["overlays"] == {"vda": fresh} and body["left"] == [overlay]
    assert image_chain(fresh) == [fresh, image]  # straight back on the image e1 froze, under a fresh overlay
    assert virsh(lab, "snapshot-current", dom.name(), "--name").strip() == "e1"
    assert body["state"] == InstanceState.SHUTOFF == state_of(vm)
    dom.create()  # and it boots from there
    assert virsh(lab, "domstate", dom.name()).strip() == "running"
    dom.destroy()

    # libvirt 9.0 cannot merge e1 now (its overlay left the chain): its metadata goes, the answer names the file.
    deleted = done(api.delete(url(vm, "e1")))
    assert (deleted["metadata_only"], deleted["files_left"]) == (True, [overlay])
    assert snapshot_names(lab, dom) == [] and disk_source(lab, dom, inactive=True) == fresh


def test_it_merges_a_chain_of_external_snapshots_live_in_any_order(api, lab, lab_vm):
    dom, vm = lab_vm(start=True)
    image = disk_source(lab, dom)
    take(api, vm, "e1", "external")
    first = disk_source(lab, dom)
    take(api, vm, "e2", "external")
    second = disk_source(lab, dom)
    assert image_chain(second) == [second, first, image]
    assert [(s["name"], s["parent"]) for s in api.get(url(vm)).json()] == [("e1", None), ("e2", "e1")]

    assert done(api.delete(url(vm, "e1")))["metadata_only"] is False  # the older one, under a running VM

    assert snapshot_names(lab, dom) == ["e2"] and not Path(first).exists()
    assert disk_source(lab, dom) == second and image_chain(second) == [second, image]
    assert done(api.delete(url(vm, "e2")))["metadata_only"] is False
    assert disk_source(lab, dom) == image and not Path(second).exists() and snapshot_names(lab, dom) == []


def test_it_refuses_to_forget_an_external_snapshot_a_shut_off_vm_still_builds_on(api, lab, lab_vm):
    """libvirt 9.0 cannot merge it ("could not find base disk source in disk source chain"): nothing changes,
    and the answer says what to do instead."""
    dom, vm = lab_vm(start=False)
    image = disk_source(lab, dom, inactive=True)
    take(api, vm, "e1", "external")
    first = disk_source(lab, dom, inactive=True)
    take(api, vm, "e2", "external")
    second = disk_source(lab, dom, inactive=True)

    refused = failed(api.delete(url(vm, "e1")))

    assert "other snapshots build on it (e2)" in refused
    assert snapshot_names(lab, dom) == ["e1", "e2"] and image_chain(second) == [second, first, image]
    # The way it suggests: the newest first, then the older one.
    assert done(api.delete(url(vm, "e2")))["metadata_only"] is False
    assert done(api.delete(url(vm, "e1")))["metadata_only"] is False
    assert disk_source(lab, dom, inactive=True) == image and not Path(first).exists() and not Path(second).exists()


def test_it_says_on_the_job_page_that_virtdeck_reverted_and_which_files_it_left(admin_client, lab, lab_vm):
    from django.urls import reverse

    dom, vm = lab_vm(start=False)
    admin_client.post(reverse("instances:instance_snapshot_create", args=[vm.pk]), {"name": "e1", "kind": "external"})
    assert last_job().status == "succeeded"
    overlay = disk_source(lab, dom, inactive=True)

    response = admin_client.post(reverse("instances:instance_snapshot_revert", args=[vm.pk, "e1"]))

    job = last_job()
    assert response["Location"] == job.get_absolute_url() and job.status == "succeeded"
    said = [entry["message"] for entry in job.log if entry["message"].startswith(vm.name) or "left behind" in
            entry["message"]]
    assert said[0].startswith(f"{vm.name} reverted to e1. Reverted by virtdeck, not libvirt")
    assert said[1].endswith(overlay) and disk_source(lab, dom, inactive=True) != overlay
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "Reverted by virtdeck, not libvirt" in page and overlay in page


def test_it_deletes_the_state_left_behind_when_asked_and_a_pool_covers_it(api, lab, lab_guests, lab_vm):
    dom, vm = lab_vm(start=False)
    image = disk_source(lab, dom, inactive=True)
    take(api, vm, "e1", "external")
    overlay = disk_source(lab, dom, inactive=True)
    # libvirt deletes files only as volumes of a storage pool: a transient one over the guest's directory.
    pool = lab_guests.conn.storagePoolCreateXML(
        f"<pool type='dir'><name>vd-test-{vm.uuid.hex[:8]}</name>"
        f"<target><path>{Path(image).parent}</path></target></pool>", 0)
    try:
        reverted = done(api.post(url(vm, "e1", "revert"), {"discard_current": True}, format="json"))
    finally:
        pool.destroy()

    assert reverted["method"] == "manual" and reverted["removed"] == [overlay] and reverted["left"] == []
    assert not Path(overlay).exists() and Path(image).exists()
    assert image_chain(disk_source(lab, dom, inactive=True))[1:] == [image]


def test_it_refuses_a_revert_body_that_is_not_an_object(api, lab, lab_vm):
    dom, vm = lab_vm(start=False)
    take(api, vm, "e1", "external")
    overlay = disk_source(lab, dom, inactive=True)

    for body in ("[]", '"yes"', '{"discard_current": "perhaps"}'):
        response = api.post(url(vm, "e1", "revert"), body, content_type="application/json")
        assert response.status_code == 400, body
    assert disk_source(lab, dom, inactive=True) == overlay
