"""virt/xml/devices builders: disks, CD-ROMs, NICs, VNC, built and parsed back; libvirt accepts them."""
import uuid

import libvirt
import pytest
from lxml import etree

from virt.errors import InvalidConfig
from virt.xml.devices import DiskXML, GraphicsXML, InterfaceXML
from virt.xml.domain import DomainXML, summarize


def parsed(device):
    """The device serialized on its own (as for attachDevice) and parsed back."""
    return type(device).from_xml(device.to_xml())


def test_it_builds_a_file_disk_and_reads_it_back():
    disk = parsed(DiskXML.file_disk("/srv/images/a.qcow2", "vdb", cache="none"))
    root = disk.element

    assert (root.get("type"), root.get("device")) == ("file", "disk")
    assert root.xpath("driver/@name") == ["qemu"] and root.xpath("driver/@type") == ["qcow2"]
    assert root.xpath("driver/@cache") == ["none"]
    assert root.xpath("source/@file") == ["/srv/images/a.qcow2"]
    assert root.xpath("target/@dev") == ["vdb"] and root.xpath("target/@bus") == ["virtio"]
    assert [child.tag for child in root] == ["driver", "source", "target"]  # libvirt's order
    assert (disk.source, disk.cache, disk.format, disk.readonly) == ("/srv/images/a.qcow2", "none", "qcow2", False)


def test_it_builds_a_volume_disk_without_a_format_unless_given():
    disk = parsed(DiskXML.volume_disk("default", "web.qcow2", "sdb", bus="sata"))

    assert disk.type == "volume" and disk.source == "default/web.qcow2"
    assert disk.element.xpath("source/@pool") == ["default"] and disk.element.xpath("source/@volume") == ["web.qcow2"]
    assert disk.format is None and disk.cache is None and disk.target_bus == "sata"


def test_it_builds_an_empty_or_loaded_cdrom():
    empty = parsed(DiskXML.cdrom("sdc"))
    loaded = parsed(DiskXML.cdrom("sdc", path="/srv/iso/debian.iso"))

    assert empty.device == "cdrom" and empty.readonly and empty.source is None
    assert empty.element.find("source") is None
    assert loaded.source == "/srv/iso/debian.iso" and loaded.format == "raw" and loaded.target_bus == "sata"


def test_it_refuses_a_disk_without_a_target():
    with pytest.raises(InvalidConfig, match="target"):
        DiskXML.file_disk("/x.qcow2", "")


@pytest.mark.parametrize(("kind", "source", "xpath", "value"), [
    ("network", "default", "source/@network", "default"),
    ("bridge", "br0", "source/@bridge", "br0"),
    ("direct", "eth0", "source/@dev", "eth0"),
])
def test_it_builds_a_nic_for_each_source_type(kind, source, xpath, value):
    nic = parsed(InterfaceXML.build(kind, source, model="e1000", mac="52:54:00:AB:CD:EF"))

    assert nic.type == kind and nic.element.xpath(xpath) == [value] and nic.source == value
    assert nic.mac == "52:54:00:ab:cd:ef" and nic.model == "e1000" and nic.link_state is None
    assert nic.source_mode == ("bridge" if kind == "direct" else None)


def test_it_builds_a_nic_with_the_link_down_and_no_source_for_user_networking():
    nic = parsed(InterfaceXML.build("user", link_up=False))

    assert nic.element.find("source") is None and nic.mac is None
    assert nic.link_state == "down" and nic.element.xpath("link/@state") == ["down"]
    nic.link_state = None
    assert nic.element.find("link") is None


@pytest.mark.parametrize(("args", "message"), [
    (("network", None), "needs a source"),
    (("vde", "x"), "Unknown interface type"),
])
def test_it_refuses_a_nic_it_cannot_build(args, message):
    with pytest.raises(InvalidConfig, match=message):
        InterfaceXML.build(*args)


@pytest.mark.parametrize("mac", ["52:54:00:ab:cd", "52-54-00-ab-cd-ef", "zz:54:00:ab:cd:ef", "52:54:00:ab:cd:ef/"])
def test_it_refuses_a_malformed_mac(mac):
    with pytest.raises(InvalidConfig, match="MAC"):
        InterfaceXML.build("network", "default", mac=mac)


def test_it_builds_vnc_with_autoport_or_a_fixed_port():
    auto = parsed(GraphicsXML.vnc("0.0.0.0", passwd="s3cret"))
    fixed = parsed(GraphicsXML.vnc(port=5907))

    assert auto.autoport is True and auto.port is None and auto.listen == "0.0.0.0" and auto.passwd == "s3cret"
    assert auto.element.xpath("listen[@type='address']/@address") == ["0.0.0.0"]
    assert fixed.autoport is False and fixed.port == 5907 and fixed.passwd is None and fixed.listen == "127.0.0.1"


def test_it_edits_a_libvirt_device_keeping_what_it_does_not_know():
    nic = InterfaceXML.from_xml(
        "<interface type='network'><mac address='52:54:00:6b:3c:58'/>"
        "<source network='default' portid='8d1f0c55'/><model type='virtio'/>"
        "<driver name='vhost' queues='4'/><alias name='net0'/></interface>"
    )
    nic.link_state = "down"
    nic.model = "e1000e"
    root = etree.fromstring(nic.to_xml())

    assert root.xpath("driver/@queues") == ["4"] and root.xpath("source/@portid") == ["8d1f0c55"]
    assert root.xpath("alias/@name") == ["net0"] and root.xpath("model/@type") == ["e1000e"]
    assert [child.tag for child in root] == ["mac", "source", "model", "driver", "link", "alias"]


def test_it_builds_devices_libvirt_accepts():
    domain = DomainXML()
    domain.type, domain.name, domain.uuid = "test", f"dev-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    domain.memory_kib, domain.vcpus, domain.os_type = 262144, 1, "hvm"
    domain.disks.add(DiskXML.file_disk("/srv/images/a.qcow2", "vda", cache="writeback"))
    domain.disks.add(DiskXML.volume_disk("default-pool", "b.img", "vdb", format="raw"))
    domain.disks.add(DiskXML.cdrom("sda", path="/srv/iso/debian.iso"))
    domain.interfaces.add(InterfaceXML.build("network", "default", mac="52:54:00:00:00:01", link_up=False))
    domain.interfaces.add(InterfaceXML.build("bridge", "br0", mac="52:54:00:00:00:02"))
    domain.graphics.add(GraphicsXML.vnc("127.0.0.1", passwd="pw"))
    libvirt.registerErrorHandler(lambda *args: None, None)
    conn = libvirt.open("test:///default")
    try:
        readback = conn.defineXML(domain.to_xml()).XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    finally:
        conn.close()

    summary = summarize(readback)
    assert [(d["target"], d["device"], d["source"]) for d in summary["disks"]] == [
        ("vda", "disk", "/srv/images/a.qcow2"), ("vdb", "disk", "default-pool/b.img"),
        ("sda", "cdrom", "/srv/iso/debian.iso"),
    ]
    back = DomainXML.from_xml(readback, trusted=True)
    assert back.disks[0].cache == "writeback" and back.disks[2].readonly
    assert [(n.source, n.link_state) for n in back.interfaces] == [("default", "down"), ("br0", None)]
    assert back.graphics[0].passwd == "pw" and back.graphics[0].autoport is True
