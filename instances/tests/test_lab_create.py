"""Against the real lab libvirtd + QEMU (TCG): the wizard's create and the clone job, every result read back
through libvirt directly (an out-of-band connection), the process table, the VNC socket and qemu-img."""
import json
import os
import socket
import subprocess
import uuid

import libvirt
import pytest
from lxml import etree

from core.models import Job
from instances import creation, creation_tasks
from instances.creation_tasks import clone_instance_task, create_instance_task
from instances.models import Instance
from virt.xml.devices import DiskXML
from virt.xml.domain import DomainXML

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def libvirt_conn(lab):
    conn = libvirt.open(lab["uri"])
    yield conn
    conn.close()


@pytest.fixture
def names():
    """Random names for this test's VMs; whatever exists under them at the end is removed."""
    made = []

    def new():
        made.append(f"vd-wiz-{uuid.uuid4().hex[:8]}")
        return made[-1]

    new.made = made
    return new


@pytest.fixture
def lab_pool(libvirt_conn, tmp_path, names):
    """A dir pool of the test's own in a tmp dir (random name); its volumes, the pool and the test's VMs are
    removed at the end, through libvirt directly."""
    directory = tmp_path / "pool"
    directory.mkdir()
    name = f"vd-wiz-pool-{uuid.uuid4().hex[:8]}"
    root = etree.Element("pool", type="dir")
    etree.SubElement(root, "name").text = name
    etree.SubElement(etree.SubElement(root, "target"), "path").text = str(directory)
    pool = libvirt_conn.storagePoolDefineXML(etree.tostring(root, encoding="unicode"), 0)
    pool.create(0)
    yield name
    for vm in names.made:
        try:
            dom = libvirt_conn.lookupByName(vm)
        except libvirt.libvirtError:
            continue
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    pool.refresh(0)
    for volume in pool.listAllVolumes(0):
        volume.delete(0)
    pool.destroy()
    pool.undefine()


def run(task, response):
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


def qemu_runs(name):
    """Whether a QEMU process for this guest is in the process table (`-name guest=<name>,...`)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(a.startswith(f"guest={name},".encode()) for a in args) and b"qemu" in args[0]:
            return True
    return False


def vnc_banner(dom):
    """The first bytes of the guest's VNC port, read from libvirt's live XML."""
    graphics = next(iter(DomainXML.from_xml(dom.XMLDesc(0), trusted=True).graphics))
    with socket.create_connection((graphics.listen, graphics.port), timeout=10) as sock:
        return sock.recv(12)


def qemu_img_info(path):
    # -U: the image is open by a running QEMU, which holds its write lock.
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def volume_path(conn, pool, volume):
    return conn.storagePoolLookupByName(pool).storageVolLookupByName(volume).path()


def test_it_creates_a_vm_with_a_new_qcow2_volume_that_boots(api, lab_host, lab_pool, libvirt_conn, names):
    name = names()
    job = run(create_instance_task, api.post("/api/instances/", {
        "host": lab_host.pk, "name": name, "install": "none", "os_variant": "generic", "memory_mib": 256,
        "vcpus": 1, "disk_pool": lab_pool, "disk_size_gib": 1, "disk_format": "qcow2", "disk_allocation": "thin",
    }, format="json"))
    dom = libvirt_conn.lookupByName(name)
    assert dom.isActive() and dom.UUIDString() == job.result["uuid"]
    assert Instance.objects.get(pk=job.result["instance"]).state == "running"
    assert etree.fromstring(dom.XMLDesc(0).encode()).get("type") == "qemu"  # TCG: the lab's KVM has no vmx
    assert qemu_runs(name)
    assert vnc_banner(dom).startswith(b"RFB ")
    info = qemu_img_info(volume_path(libvirt_conn, lab_pool, f"{name}.qcow2"))
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1024**3)


def test_it_clones_a_running_vm_paused_and_the_clone_boots(api, lab_host, lab_pool, libvirt_conn, names):
    source, copy = names(), names()
    created = run(create_instance_task, api.post("/api/instances/", {
        "host": lab_host.pk, "name": source, "memory_mib": 256, "vcpus": 1, "disk_pool": lab_pool,
        "disk_size_gib": 1,
    }, format="json"))
    instance = Instance.objects.get(pk=created.result["instance"])
    refused = api.post(f"/api/instances/{instance.pk}/clone/", {"name": copy, "pool": lab_pool}, format="json")
    assert refused.status_code == 409
    job = run(clone_instance_task, api.post(f"/api/instances/{instance.pk}/clone/",
                                            {"name": copy, "pool": lab_pool, "paused_copy": True}, format="json"))
    assert job.progress == 100 and any("paused" in entry["message"] for entry in job.log)
    assert libvirt_conn.lookupByName(source).state()[0] == libvirt.VIR_DOMAIN_RUNNING  # resumed
    clone = libvirt_conn.lookupByName(copy)
    assert clone.UUIDString() == job.result["uuid"] != created.result["uuid"]
    (disk,) = list(DomainXML.from_xml(clone.XMLDesc(0), trusted=True).disks)
    assert (disk.source_pool, disk.source_volume) == (lab_pool, f"{copy}-vda.qcow2")
    info = qemu_img_info(volume_path(libvirt_conn, lab_pool, f"{copy}-vda.qcow2"))
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1024**3)
    clone.create()
    assert clone.isActive() and qemu_runs(copy) and vnc_banner(clone).startswith(b"RFB ")


def test_it_leaves_nothing_when_the_vm_fails_to_start(admin_user, lab_host, lab_pool, libvirt_conn, names):
    name = names()
    plan = creation.plan_instance(lab_host, {"name": name, "memory_mib": 256, "vcpus": 1, "disk_pool": lab_pool,
                                             "disk_size_gib": 1})
    # Customized: a second disk on a file that does not exist. libvirt defines it, QEMU cannot open it.
    domain = DomainXML.from_xml(plan.xml)
    domain.disks.add(DiskXML.file_disk("/nonexistent/virtdeck/missing.qcow2", "vdb"))
    job = creation_tasks.create_instance(creation.customized(plan, domain.to_xml()), admin_user)
    create_instance_task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "failed" and "missing.qcow2" in job.error
    assert f"removed: domain" in job.error and f"volume {lab_pool}/{name}.qcow2" in job.error
    assert name not in [d.name() for d in libvirt_conn.listAllDomains(0)]
    pool = libvirt_conn.storagePoolLookupByName(lab_pool)
    pool.refresh(0)
    assert pool.listVolumes() == []
    assert not Instance.objects.filter(name=name).exists()


def test_it_clones_a_shut_off_vm_with_qemu_img_on_the_host(api, lab_host, lab_pool, libvirt_conn, names):
    source, copy = names(), names()
    created = run(create_instance_task, api.post("/api/instances/", {
        "host": lab_host.pk, "name": source, "memory_mib": 256, "vcpus": 1, "disk_pool": lab_pool,
        "disk_size_gib": 1, "disk_format": "raw", "start": False,
    }, format="json"))
    job = run(clone_instance_task, api.post(f"/api/instances/{created.result['instance']}/clone/",
                                            {"name": copy, "pool": lab_pool}, format="json"))
    assert not any("paused" in entry["message"] for entry in job.log)
    assert libvirt_conn.lookupByName(source).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    info = qemu_img_info(volume_path(libvirt_conn, lab_pool, f"{copy}-vda.img"))
    assert (info["format"], info["virtual-size"]) == ("raw", 1024**3)
    clone = libvirt_conn.lookupByName(copy)
    clone.create()
    assert qemu_runs(copy) and vnc_banner(clone).startswith(b"RFB ")


def test_it_boots_an_iso_install_with_the_cdrom_from_a_pool_volume(api, lab_host, lab_pool, libvirt_conn, names):
    name = names()
    # Any file serves as the medium: SeaBIOS finds nothing bootable on it and goes on to the disk.
    libvirt_conn.storagePoolLookupByName(lab_pool).createXML(
        "<volume><name>installer.iso</name><capacity unit='MiB'>1</capacity><target><format type='raw'/></target>"
        "</volume>", 0)
    run(create_instance_task, api.post("/api/instances/", {
        "host": lab_host.pk, "name": name, "install": "iso", "iso_volume": f"{lab_pool}/installer.iso",
        "os_variant": "debian11", "memory_mib": 256, "vcpus": 1, "disk_pool": lab_pool, "disk_size_gib": 1,
    }, format="json"))
    dom = libvirt_conn.lookupByName(name)
    live = DomainXML.from_xml(dom.XMLDesc(0), trusted=True)
    cdrom = next(d for d in live.disks if d.device == "cdrom")
    assert cdrom.source_volume == "installer.iso" and cdrom.readonly and cdrom.target_bus == "sata"
    assert live.machine.startswith("pc-q35") and live.boot_devices == ["cdrom", "hd"]
    assert qemu_runs(name) and vnc_banner(dom).startswith(b"RFB ")
