"""The hardware API on real QEMU guests (the lab's libvirtd, TCG); every result read back through libvirt
directly (its own connection), virsh or qemu-img, never only through virtdeck.

Each test makes what it uses with random names and removes it: a dir storage pool over its tmp_path, an
isolated network (no forward, no IP: no dnsmasq), and guests from the lab_guests fixture.
"""
import json
import socket
import subprocess
import uuid

import libvirt
import pytest
from lxml import etree

from instances.inventory import refresh_one

pytestmark = pytest.mark.lab
MIB = 1024 * 1024


@pytest.fixture
def lab_pool(lab, tmp_path):
    """A transient dir pool over tmp_path (where lab_guests puts the guests' disks too): its name."""
    conn = libvirt.open(lab["uri"])
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    pool = conn.storagePoolCreateXML(f"<pool type='dir'><name>{name}</name>"
                                     f"<target><path>{tmp_path}</path></target></pool>", 0)
    yield name
    pool.destroy()
    conn.close()


@pytest.fixture
def lab_network(lab):
    """A transient isolated network (a bridge only): its name. Request it before lab_guests (torn down after)."""
    conn = libvirt.open(lab["uri"])
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    network = conn.networkCreateXML(f"<network><name>{name}</name></network>")
    yield name
    network.destroy()
    conn.close()


def vm_of(host, dom):
    return refresh_one(host, dom.UUIDString())


def url(vm, *parts):
    return "/".join([f"/api/instances/{vm.pk}", *parts]) + "/"


def live_xml(dom, flags=0):
    return etree.fromstring(dom.XMLDesc(flags))


def virsh(lab, *args):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=True).stdout


def blocklist(lab, dom):
    """virsh domblklist: {target: source} of the running VM."""
    rows = virsh(lab, "domblklist", dom.name()).splitlines()[2:]
    return dict(row.split(None, 1) for row in rows if row.strip())


def image_info(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def vnc_security_types(dom):
    """The security types the guest's VNC server offers (1: none, 2: VNC password), read off the wire."""
    graphics = live_xml(dom).find("devices/graphics")
    with socket.create_connection((graphics.get("listen"), int(graphics.get("port"))), timeout=10) as sock:
        assert sock.recv(12) == b"RFB 003.008\n"
        sock.sendall(b"RFB 003.008\n")
        count = sock.recv(1)[0]
        return set(sock.recv(count))


def restart(dom):
    """Off and on again through libvirt: the next boot that picks up the saved configuration."""
    dom.destroy()
    dom.create()


def test_it_attaches_a_new_volume_live_and_grows_it(api, lab, lab_host, lab_pool, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)

    response = api.post(url(vm, "disks"), {"pool": lab_pool, "name": "data.qcow2", "size_mib": 32}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["target"] == "vdb" and response.json()["changes"] == [{"field": "disk", "live": True}]
    path = lab_guests.conn.storagePoolLookupByName(lab_pool).storageVolLookupByName("data.qcow2").path()
    assert blocklist(lab, dom)["vdb"] == path  # in the running VM
    saved = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert saved.xpath("devices/disk[target/@dev='vdb']/source/@file") == [path]
    assert image_info(path)["virtual-size"] == 32 * MIB and image_info(path)["format"] == "qcow2"

    response = api.post(url(vm, "disks", "vdb", "resize"), {"size_mib": 64}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"capacity_bytes": 64 * MIB, "changes": [{"field": "size", "live": True}]}
    assert dom.blockInfo("vdb", 0)[0] == 64 * MIB and image_info(path)["virtual-size"] == 64 * MIB
    refused = api.post(url(vm, "disks", "vdb", "resize"), {"size_mib": 48}, format="json")
    assert refused.status_code == 400 and "lose data" in refused.json()["detail"]
    assert image_info(path)["virtual-size"] == 64 * MIB


def test_it_grows_a_shut_off_vms_disk_through_its_volume(api, lab_host, lab_pool, lab_guests):
    dom = lab_guests.define(start=False)
    lab_guests.conn.storagePoolLookupByName(lab_pool).refresh(0)  # the pool now sees the guest's disk
    vm = vm_of(lab_host, dom)
    path = live_xml(dom).find("devices/disk/source").get("file")

    response = api.post(url(vm, "disks", "vda", "resize"), {"size_mib": 96}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "size", "live": False}]
    assert image_info(path)["virtual-size"] == 96 * MIB


def test_it_refuses_a_live_disk_the_guest_cannot_take_and_leaves_no_volume(api, lab_host, lab_pool, lab_guests):
    dom = lab_guests.define(start=False)
    root = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    root.remove(root.find("features"))  # without ACPI, QEMU cannot hot-plug PCI devices
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    vm = vm_of(lab_host, dom)

    response = api.post(url(vm, "disks"), {"pool": lab_pool, "name": "late.qcow2", "size_mib": 16}, format="json")

    assert response.status_code == 409 and "next boot" in response.json()["detail"], response.content
    assert "late.qcow2" not in lab_guests.conn.storagePoolLookupByName(lab_pool).listVolumes()
    assert len(live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).findall("devices/disk")) == 1


def test_it_hot_adds_a_nic_and_pulls_its_cable(api, lab, lab_network, lab_host, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)

    response = api.post(url(vm, "nics"), {"type": "network", "source": lab_network, "model": "virtio"},
                        format="json")

    assert response.status_code == 201, response.content
    mac = response.json()["mac"]
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        nic = live_xml(dom, flags).find("devices/interface")
        assert nic.find("mac").get("address") == mac and nic.find("source").get("network") == lab_network
    assert live_xml(dom).find("devices/interface/target").get("dev").startswith("vnet")  # a real tap

    response = api.patch(url(vm, "nics", mac), {"link_up": False, "model": "e1000"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "link_up", "live": True}, {"field": "model", "live": False}]
    assert live_xml(dom).xpath("devices/interface/link/@state") == ["down"]
    assert virsh(lab, "domif-getlink", dom.name(), mac).split()[-1] == "down"
    assert live_xml(dom).xpath("devices/interface/model/@type") == ["virtio"]  # the model waits for the next boot
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).xpath("devices/interface/model/@type") == ["e1000"]


def test_it_inserts_and_ejects_a_cdrom_in_a_running_guest(api, lab, lab_host, lab_pool, lab_guests, tmp_path):
    dom = lab_guests.define(start=False)
    root = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    drive = etree.SubElement(root.find("devices"), "disk", type="file", device="cdrom")
    etree.SubElement(drive, "target", dev="hdc", bus="ide")
    etree.SubElement(drive, "readonly")
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    iso = tmp_path / "tools.iso"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(iso), "1M"], check=True)
    lab_guests.conn.storagePoolLookupByName(lab_pool).refresh(0)
    vm = vm_of(lab_host, dom)

    response = api.post(url(vm, "disks", "hdc", "media"), {"pool": lab_pool, "volume": "tools.iso"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "media", "live": True}]
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        assert live_xml(dom, flags).xpath("devices/disk[target/@dev='hdc']/source/@file") == [str(iso)]
    assert blocklist(lab, dom)["hdc"] == str(iso)

    response = api.delete(url(vm, "disks", "hdc", "media"))

    assert response.status_code == 200, response.content
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):  # live, libvirt keeps an empty <source index=.../>
        assert live_xml(dom, flags).xpath("devices/disk[target/@dev='hdc']/source/@file") == []
    assert blocklist(lab, dom)["hdc"] == "-"  # virsh's word for an empty drive


def secure_password(dom, flags=0):
    return live_xml(dom, flags | libvirt.VIR_DOMAIN_XML_SECURE).find("devices/graphics").get("passwd")


def test_it_sets_a_vnc_password_for_the_next_boot_of_a_display_started_without_one(api, lab_host, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)
    assert vnc_security_types(dom) == {1}  # no password: VNC's "None" security type

    response = api.patch(url(vm, "config"), {"vnc_password": "s3cr3t"}, format="json")

    # QEMU refuses set_password on a display started without one: the password waits for the next boot.
    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "vnc_password", "live": False}]
    assert "s3cr3t" not in response.content.decode() and "s3cr3t" not in api.get(url(vm, "config")).content.decode()
    assert api.get(url(vm, "config")).json()["vnc"]["password_set"] is True
    assert secure_password(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == "s3cr3t" and secure_password(dom) is None
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).find("devices/graphics").get("passwd") is None

    restart(dom)

    assert vnc_security_types(dom) == {2}  # QEMU now asks for the password
    assert secure_password(dom) == "s3cr3t"


def test_it_changes_a_vnc_password_live(api, lab_host, lab_guests):
    dom = lab_guests.define(start=False)
    root = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    root.find("devices/graphics").set("passwd", "first")
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    vm = vm_of(lab_host, dom)

    response = api.patch(url(vm, "config"), {"vnc_password": "second"}, format="json")

    assert response.json()["changes"] == [{"field": "vnc_password", "live": True}]
    assert secure_password(dom) == "second" and secure_password(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == "second"
    assert "second" not in response.content.decode()

    response = api.patch(url(vm, "config"), {"vnc_password_clear": True}, format="json")

    # Cleared live, QEMU would keep asking for a password and accept none: cleared for the next boot.
    assert response.json()["changes"] == [{"field": "vnc_password_clear", "live": False}]
    assert secure_password(dom) == "second" and secure_password(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) is None
    restart(dom)
    assert vnc_security_types(dom) == {1}


def test_it_changes_memory_for_the_next_boot_and_the_guest_gets_it(api, lab_host, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)

    response = api.patch(url(vm, "config"), {"max_memory_mib": 384, "memory_mib": 320}, format="json")

    assert response.status_code == 200, response.content
    assert {(c["field"], c["live"]) for c in response.json()["changes"]} == {
        ("max_memory_mib", False), ("memory_mib", False)}  # 320 MiB is over the running maximum of 256
    assert dom.info()[1] == 256 * 1024
    assert [c["part"] for c in api.get(url(vm, "config")).json()["next_boot"]] == ["memory"]

    restart(dom)

    assert dom.info()[1] == 384 * 1024  # QEMU got the new maximum
    assert live_xml(dom).findtext("memory") == str(384 * 1024)
    vm.refresh_from_db()
    assert api.get(url(vm, "config")).json()["next_boot"] == []


def test_it_adds_a_vcpu_live_after_raising_the_maximum(api, lab_host, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)

    raised = api.patch(url(vm, "config"), {"max_vcpus": 2}, format="json")
    assert raised.json()["changes"] == [{"field": "max_vcpus", "live": False}]
    restart(dom)
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_VCPU_MAXIMUM) == 2

    response = api.patch(url(vm, "config"), {"vcpus": 2}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "vcpus", "live": True}]
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2 and dom.info()[3] == 2
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2
    refused = api.patch(url(vm, "config"), {"max_vcpus": 64}, format="json")
    assert refused.status_code == 400 and "max_vcpus" in refused.json()  # more than this host's CPUs


def test_it_sets_a_cpu_model_and_boot_order_for_the_next_boot_and_refuses_passthrough_under_tcg(
        api, lab_host, lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)
    before = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    refused = api.patch(url(vm, "config"), {"cpu_mode": "host-passthrough"}, format="json")
    unknown = api.patch(url(vm, "config"), {"cpu_mode": "custom", "cpu_model": "Pentium-9000"}, format="json")
    unusable = api.patch(url(vm, "config"), {"cpu_mode": "custom", "cpu_model": "Skylake-Server"}, format="json")

    assert refused.status_code == 400 and "host-passthrough needs KVM" in refused.json()["cpu_mode"][0]
    assert unknown.status_code == 400 and "cpu_model" in unknown.json()
    assert unusable.status_code == 400 and "lacks some of its features" in unusable.json()["cpu_model"][0]
    assert dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == before

    # Not qemu64: that is the CPU QEMU gives a VM without one, so the running VM would already match it.
    response = api.patch(url(vm, "config"), {"cpu_mode": "custom", "cpu_model": "core2duo", "boot": ["cdrom", "hd"]},
                         format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "cpu_mode", "live": False}, {"field": "boot", "live": False}]
    assert {c["part"] for c in api.get(url(vm, "config")).json()["next_boot"]} == {"cpu", "os"}
    restart(dom)
    running = live_xml(dom)
    assert running.find("cpu").get("mode") == "custom" and running.findtext("cpu/model") == "core2duo"
    assert running.xpath("os/boot/@dev") == ["cdrom", "hd"]


def test_it_moves_a_running_vms_nic_to_another_network_live(api, lab_network, lab_host, lab_guests, lab):
    conn = libvirt.open(lab["uri"])
    other = conn.networkCreateXML(f"<network><name>vd-test-{uuid.uuid4().hex[:8]}</name></network>")
    try:
        dom = lab_guests.define()
        vm = vm_of(lab_host, dom)
        mac = api.post(url(vm, "nics"), {"type": "network", "source": lab_network}, format="json").json()["mac"]

        response = api.patch(url(vm, "nics", mac), {"type": "network", "source": other.name()}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["changes"] == [{"field": "source", "live": True}]
        for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
            assert live_xml(dom, flags).xpath("devices/interface/source/@network") == [other.name()]
        dom.destroy()
    finally:
        other.destroy()
        conn.close()


def test_it_says_a_live_detach_waits_for_the_guest_and_removes_it_from_the_next_boot(api, lab_host, lab_pool,
                                                                                    lab_guests):
    dom = lab_guests.define()
    vm = vm_of(lab_host, dom)
    api.post(url(vm, "disks"), {"pool": lab_pool, "name": "gone.qcow2", "size_mib": 8}, format="json")

    response = api.delete(url(vm, "disks", "vdb"))

    # These guests have no OS to release the disk: QEMU keeps it until the VM stops.
    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "disk", "live": False}]
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).xpath("devices/disk/target/@dev") == ["vda"]
    assert "gone.qcow2" in lab_guests.conn.storagePoolLookupByName(lab_pool).listVolumes()  # the image stays
    restart(dom)
    assert live_xml(dom).xpath("devices/disk/target/@dev") == ["vda"]


def test_it_removes_a_boot_time_vcpu_at_the_next_boot(api, lab_host, lab_guests):
    dom = lab_guests.define(start=False)
    dom.setVcpusFlags(2, libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    dom.setVcpusFlags(2, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    dom.create()
    vm = vm_of(lab_host, dom)

    response = api.patch(url(vm, "config"), {"vcpus": 1}, format="json")

    # QEMU unplugs only vCPUs that were plugged in later: this one goes at the next boot.
    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "vcpus", "live": False}]
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2 and dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 1
    restart(dom)
    assert dom.info()[3] == 1


def test_it_attaches_to_the_next_boot_only_when_asked(api, lab_host, lab_pool, lab_guests):
    dom = lab_guests.define(start=False)
    root = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    root.remove(root.find("features"))  # no ACPI: QEMU cannot hot-plug, the configuration can take it
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    vm = vm_of(lab_host, dom)

    response = api.post(url(vm, "disks"), {"pool": lab_pool, "name": "later.qcow2", "size_mib": 8,
                                           "affect": "config"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["changes"] == [{"field": "disk", "live": False}]
    assert live_xml(dom).xpath("devices/disk/target/@dev") == ["vda"]
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).xpath("devices/disk/target/@dev") == ["vda", "vdb"]

    removed = api.delete(url(vm, "disks", "vdb") + "?affect=config")
    assert removed.status_code == 200, removed.content
    assert removed.json()["changes"] == [{"field": "disk", "live": False}]
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).xpath("devices/disk/target/@dev") == ["vda"]
    assert api.delete(url(vm, "disks", "vda") + "?affect=sideways").status_code == 400


def test_the_page_adds_a_nic_for_the_next_boot_when_asked(admin_client, lab_network, lab_host, lab_guests):
    dom = lab_guests.define(start=False)
    root = live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    root.remove(root.find("features"))  # no ACPI: the NIC cannot go live
    dom = lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    dom.create()
    vm = vm_of(lab_host, dom)
    form = {"type": "network", "source": lab_network, "model": "virtio"}

    refused = admin_client.post(f"/instances/{vm.pk}/hardware/nic-add/", form, follow=True)
    added = admin_client.post(f"/instances/{vm.pk}/hardware/nic-add/", {**form, "affect": "config"}, follow=True)

    assert "refused the change live" in refused.content.decode()
    assert [str(m) for m in added.context["messages"]] == ["Changed: nic: at the next boot."]
    assert live_xml(dom).find("devices/interface") is None
    assert live_xml(dom, libvirt.VIR_DOMAIN_XML_INACTIVE).xpath("devices/interface/source/@network") == [lab_network]
