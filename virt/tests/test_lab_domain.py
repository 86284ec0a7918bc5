"""virt/domain and virt/snapshots on real QEMU guests (the lab's libvirtd, TCG), through the pool as
services call them; every result read back through libvirt directly or qemu-img.

Facts of this lab the tests rely on (libvirt 9.0, QEMU 7.2, machine `pc`):
- PCI hot-plug needs ACPI in the guest: without `<features><acpi/>` QEMU answers "Bus 'pci.0' does
  not support hotplugging". lab/guest.py's guests have it; guest_without_acpi() removes it.
- A hot-plugged NIC refuses `<rom bar='off'/>` ("Hot-plugged device without ROM bar can't have an option
  ROM"): `<rom enabled='no'/>` keeps it from PXE-booting instead. type='user' and type='ethernet' NICs
  attach; the lab's network `default` is not started, so type='network' is refused.
- The guests have no OS: a live detach is only requested (the guest never releases the device) and the
  balloon never moves, so neither is asserted live here.
"""
import json
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from virt.connection import ConnectionSpec, Pool
from virt.domain import Domain
from virt.errors import InvalidConfig, OperationInvalid
from virt.lifecycle import PAUSED
from virt.snapshots import NATIVE_EXTERNAL_REVERT
from virt.xml.devices import DiskXML, InterfaceXML
from virt.xml.diff import next_boot_changes

pytestmark = pytest.mark.lab
MIB = 1024 * 1024


@pytest.fixture
def on_lab(lab):
    pool = Pool(call_timeout=60, connect_timeout=10)
    spec = ConnectionSpec(key="lab-domain", uri=lab["uri"])
    yield lambda fn: pool.call(spec, fn)
    pool.close_all()


def act(dom, method, *args, **kwargs):
    """fn(conn) running Domain.lookup(conn, dom's uuid).method(...): what a service does."""
    uuid_ = dom.UUIDString()
    return lambda conn: getattr(Domain.lookup(conn, uuid_), method)(*args, **kwargs)


def snaps(dom, method, *args, **kwargs):
    uuid_ = dom.UUIDString()
    return lambda conn: getattr(Domain.lookup(conn, uuid_).snapshots, method)(*args, **kwargs)


def disk_sources(dom, inactive=False):
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0)
    return {d.find("target").get("dev"): d.find("source").get("file")
            for d in etree.fromstring(xml).iterfind("devices/disk") if d.find("source") is not None}


def image_info(path):
    """qemu-img's view of an image (-U: the running QEMU holds its lock)."""
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def hotplug_guest(lab_guests):
    """A running lab guest with ACPI (lab/guest.py gives it), so PCI devices can be hot-plugged."""
    dom = lab_guests.define()
    assert etree.fromstring(dom.XMLDesc(0)).find("features/acpi") is not None
    return dom


def guest_without_acpi(lab_guests):
    """A running lab guest without ACPI: QEMU cannot hot-plug PCI devices into it."""
    dom = lab_guests.define(start=False)
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    root.remove(root.find("features"))
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    return dom


def test_it_runs_a_real_guest_through_its_lifecycle(on_lab, lab_guests):
    dom = lab_guests.define(start=False)

    on_lab(act(dom, "start", paused=True))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED and on_lab(act(dom, "state")) == PAUSED
    on_lab(act(dom, "resume"))
    on_lab(act(dom, "shutdown", mode="acpi"))  # SeaBIOS without an OS ignores it: the guest keeps running
    on_lab(act(dom, "reboot", mode="acpi"))
    on_lab(act(dom, "reset"))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    on_lab(act(dom, "destroy", graceful=True))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF

    new_name = f"vd-test-renamed-{uuid.uuid4().hex[:6]}"
    assert on_lab(act(dom, "rename", new_name)) == new_name
    assert lab_guests.conn.lookupByUUIDString(dom.UUIDString()).name() == new_name
    on_lab(act(dom, "undefine"))  # NVRAM and checkpoint flags accepted by the QEMU driver
    with pytest.raises(libvirt.libvirtError):
        lab_guests.conn.lookupByUUIDString(dom.UUIDString())


def test_it_saves_restores_and_reports_the_save_job(on_lab, lab_guests):
    dom = lab_guests.define()

    on_lab(act(dom, "managed_save"))
    assert dom.hasManagedSaveImage(0) == 1 and dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    job = on_lab(act(dom, "job_info", completed=True))
    assert job["type"] == "completed" and job["operation"] == "save" and not job["active"]
    assert job["data_total"] > 0 and job["data_processed"] > 0 and job["data_remaining"] == 0
    assert on_lab(act(dom, "job_info"))["type"] == "none"
    assert on_lab(act(dom, "abort_job")) is False  # nothing to abort

    on_lab(act(dom, "restore"))
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and dom.hasManagedSaveImage(0) == 0


def test_it_sees_no_pending_change_on_a_real_running_guest(on_lab, lab_guests):
    dom = lab_guests.define()
    live, saved = on_lab(lambda c: (Domain.lookup(c, dom.UUIDString()).xml_desc(),
                                    Domain.lookup(c, dom.UUIDString()).xml_desc(inactive=True)))
    assert next_boot_changes(live, saved) == []


def test_it_changes_memory_for_the_next_boot(on_lab, lab_guests):
    dom = lab_guests.define()

    on_lab(act(dom, "set_max_memory", 384 * 1024))
    on_lab(act(dom, "set_memory", 320 * 1024, affect="config"))
    assert dom.info()[1] == 256 * 1024  # the running guest keeps its memory
    live, saved = dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert next_boot_changes(live, saved) == [{"part": "memory", "change": "changed"}]

    dom.destroy()
    dom.create()
    # The new maximum is what QEMU got; the balloon target (current) needs a guest driver to move, and
    # these guests have no OS, so the configuration is where current memory is read back.
    assert dom.info()[1] == 384 * 1024
    memory = on_lab(act(dom, "memory"))
    assert memory["live"]["maximum_kib"] == 384 * 1024
    assert memory["config"] == {"current_kib": 320 * 1024, "maximum_kib": 384 * 1024}
    assert next_boot_changes(dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == []


def test_it_attaches_a_new_disk_and_grows_it_live(on_lab, lab_guests, tmp_path):
    dom = hotplug_guest(lab_guests)
    path = tmp_path / "extra.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "32M"], check=True)

    assert on_lab(act(dom, "attach_device", DiskXML.file_disk(str(path), "vdb", cache="none"))) == ["config", "live"]
    assert disk_sources(dom)["vdb"] == str(path) and disk_sources(dom, inactive=True)["vdb"] == str(path)

    assert on_lab(act(dom, "resize_disk", "vdb", 64 * MIB)) == 64 * MIB
    assert dom.blockInfo("vdb", 0)[0] == 64 * MIB and image_info(path)["virtual-size"] == 64 * MIB
    with pytest.raises(InvalidConfig, match="would lose data"):
        on_lab(act(dom, "resize_disk", "vdb", 48 * MIB))
    assert image_info(path)["virtual-size"] == 64 * MIB


def test_it_adds_a_nic_and_pulls_its_cable(on_lab, lab_guests):
    dom = hotplug_guest(lab_guests)
    nic = InterfaceXML.build("user", mac="52:54:00:0d:00:01")
    nic.rom_enabled = False

    on_lab(act(dom, "attach_device", nic))
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        assert etree.fromstring(dom.XMLDesc(flags)).xpath("devices/interface/mac/@address") == ["52:54:00:0d:00:01"]

    nic.link_state = "down"
    on_lab(act(dom, "update_device", nic))
    assert etree.fromstring(dom.XMLDesc(0)).xpath("devices/interface/link/@state") == ["down"]


def test_it_says_plainly_when_the_running_vm_refuses_a_change_live(on_lab, lab_guests, tmp_path):
    dom = guest_without_acpi(lab_guests)
    path = tmp_path / "late.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    disk = DiskXML.file_disk(str(path), "vdb")

    with pytest.raises(OperationInvalid, match="refused the change live: .*hotplugging.* next boot"):
        on_lab(act(dom, "attach_device", disk))
    assert "vdb" not in disk_sources(dom, inactive=True)  # nothing half-done
    assert on_lab(act(dom, "attach_device", disk, affect="config")) == ["config"]
    assert "vdb" in disk_sources(dom, inactive=True) and "vdb" not in disk_sources(dom)
    assert next_boot_changes(dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == [
        {"part": "disk vdb", "change": "added"}]


def test_it_snapshots_a_running_guest_internally_and_reverts(on_lab, lab_guests):
    dom = lab_guests.define()
    disk = disk_sources(dom)["vda"]

    created = on_lab(snaps(dom, "create_internal", "i1", "before the change"))
    assert created["kind"] == "internal" and created["memory"] and created["current"]
    assert [s["name"] for s in image_info(disk).get("snapshots", [])] == ["i1"]

    dom.suspend()
    on_lab(act(dom, "set_max_memory", 300 * 1024))
    assert on_lab(snaps(dom, "revert", "i1")) == {"name": "i1", "method": "native"}
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING  # the snapshot was taken running
    assert dom.info()[1] == 256 * 1024 and dom.snapshotCurrent(0).getName() == "i1"

    assert on_lab(snaps(dom, "delete", "i1"))["metadata_only"] is False
    assert dom.listAllSnapshots(0) == [] and image_info(disk).get("snapshots", []) == []


def test_it_snapshots_disks_externally_and_merges_them_back(on_lab, lab_guests):
    dom = lab_guests.define()
    image = disk_sources(dom)["vda"]

    created = on_lab(snaps(dom, "create_external", "e1"))
    overlay = disk_sources(dom)["vda"]
    assert created["kind"] == "external" and not created["memory"] and created["state"] == "disk-snapshot"
    assert overlay != image and image_info(overlay)["backing-filename"] == image

    assert on_lab(snaps(dom, "delete", "e1")) == {"name": "e1", "metadata_only": False, "files_left": []}
    assert disk_sources(dom)["vda"] == image and dom.listAllSnapshots(0) == []
    assert not Path(overlay).exists()


def test_it_reverts_a_shut_off_guest_to_an_external_snapshot_by_hand(on_lab, lab_guests, tmp_path):
    dom = lab_guests.define()
    image = disk_sources(dom)["vda"]
    on_lab(snaps(dom, "create_external", "e1"))
    overlay = disk_sources(dom)["vda"]
    dom.destroy()
    if lab_guests.conn.getLibVersion() < NATIVE_EXTERNAL_REVERT:  # why the manual way exists
        with pytest.raises(libvirt.libvirtError, match="revert to external snapshot not supported"):
            dom.revertToSnapshot(dom.snapshotLookupByName("e1", 0), 0)

    result = on_lab(snaps(dom, "revert", "e1"))

    fresh = disk_sources(dom, inactive=True)["vda"]
    assert result["method"] == "manual" and result["images"] == {"vda": image} and result["overlays"]["vda"] == fresh
    assert result["removed"] == [] and result["left"] == [overlay]  # kept unless asked
    assert image_info(fresh)["backing-filename"] == image  # the VM writes to a fresh overlay on the frozen image
    assert Path(overlay).exists() and dom.snapshotCurrent(0).getName() == "e1"
    dom.create()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    live = etree.fromstring(dom.XMLDesc(0))
    assert live.xpath("devices/disk/source/@file") == [fresh]
    assert live.xpath("devices/disk/backingStore/source/@file") == [image]
    dom.destroy()

    # Again, discarding what the first revert ran on; a storage pool over the directory lets libvirt delete it.
    pool = lab_guests.conn.storagePoolCreateXML(
        f"<pool type='dir'><name>vd-test-{uuid.uuid4().hex[:8]}</name>"
        f"<target><path>{tmp_path}</path></target></pool>", 0)
    try:
        again = on_lab(snaps(dom, "revert_external_manually", "e1", discard_current=True))
    finally:
        pool.destroy()
    assert again["removed"] == [fresh] and not Path(fresh).exists()
    assert image_info(disk_sources(dom, inactive=True)["vda"])["backing-filename"] == image

    # libvirt 9.0 cannot merge e1 any more (its overlay left the chain): only its metadata goes.
    assert on_lab(snaps(dom, "delete", "e1")) == {"name": "e1", "metadata_only": True, "files_left": [overlay]}
    assert dom.listAllSnapshots(0) == [] and Path(image).exists()
