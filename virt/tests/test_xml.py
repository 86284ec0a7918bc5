"""virt/xml: building, parsing, round trips, units and hostile input. Pure, except the test-driver check."""
import uuid

import libvirt
import pytest
from lxml import etree

from virt.errors import InvalidConfig
from virt.xml.base import XMLChildren, XMLObject, XMLProperty
from virt.xml.domain import DiskXML, DomainXML, GraphicsXML, InterfaceXML, summarize
from virt.xml.units import to_kib, unit_factor

# What `virsh dumpxml --security-info` prints for a running qemu/KVM guest (trimmed, nothing invented).
LIBVIRT_DOMAIN = """\
<domain type='kvm' id='3' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>web01</name>
  <uuid>2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12</uuid>
  <title>Front web server</title>
  <description>nginx + php-fpm
second line</description>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>
      <libosinfo:os id='http://debian.org/debian/12'/>
    </libosinfo:libosinfo>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
    <boot dev='cdrom'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <vmport state='off'/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/web01.qcow2' index='3'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/vg0/web01-data' index='2'/>
      <backingStore/>
      <target dev='vdb' bus='virtio'/>
      <alias name='virtio-disk1'/>
      <address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/boot/debian-12.5.0-amd64-netinst.iso' index='1'/>
      <backingStore/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <alias name='sata0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'>
      <alias name='usb'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </controller>
    <controller type='sata' index='0'>
      <alias name='ide'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default' portid='8d1f0c55-5e43-4a0e-8f25-8c7a1f3e2b6d' bridge='virbr0'/>
      <target dev='vnet2'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:a1:22:07'/>
      <source bridge='br0'/>
      <target dev='vnet3'/>
      <model type='e1000e'/>
      <alias name='net1'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/3'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
      <alias name='serial0'/>
    </serial>
    <console type='pty' tty='/dev/pts/3'>
      <source path='/dev/pts/3'/>
      <target type='serial' port='0'/>
      <alias name='serial0'/>
    </console>
    <input type='tablet' bus='usb'>
      <alias name='input0'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <graphics type='vnc' port='5901' autoport='yes' listen='0.0.0.0' passwd='hunter2'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
    <video>
      <model type='virtio' heads='1' primary='yes'/>
      <alias name='video0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </video>
    <memballoon model='virtio'>
      <alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
    </memballoon>
  </devices>
  <seclabel type='dynamic' model='apparmor' relabel='yes'>
    <label>libvirt-2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12</label>
    <imagelabel>libvirt-2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12</imagelabel>
  </seclabel>
  <qemu:commandline>
    <qemu:arg value='-no-user-config'/>
  </qemu:commandline>
</domain>
"""


def canonical(xml, drop=()):
    """C14N form without formatting whitespace, optionally without the named top-level children."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    for tag in drop:
        for element in root.findall(tag):
            root.remove(element)
    return etree.canonicalize(root, strip_text=True)


def build_small_domain(name="built-vm"):
    domain = DomainXML()
    domain.type = "test"
    domain.name = name
    domain.uuid = str(uuid.uuid4())
    domain.title = "Built by virtdeck"
    domain.description = "made in a test"
    domain.memory_kib = 1024 * 1024
    domain.current_memory_kib = 512 * 1024
    domain.vcpus = 2
    domain.os_type = "hvm"
    domain.arch = "i686"
    domain.boot_devices = ["cdrom", "hd"]
    domain.on_poweroff = "destroy"
    domain.on_reboot = "restart"
    domain.on_crash = "destroy"

    disk = domain.disks.add()
    disk.type = "file"
    disk.device = "disk"
    disk.driver_name = "qemu"
    disk.format = "qcow2"
    disk.source_file = f"/var/lib/libvirt/images/{name}.qcow2"
    disk.target_dev = "vda"
    disk.target_bus = "virtio"

    cdrom = DiskXML()
    cdrom.type = "file"
    cdrom.device = "cdrom"
    cdrom.driver_name = "qemu"
    cdrom.format = "raw"
    cdrom.source_file = "/srv/iso/debian.iso"
    cdrom.target_dev = "hdc"
    cdrom.target_bus = "ide"
    cdrom.readonly = True
    domain.disks.add(cdrom)

    nic = domain.interfaces.add()
    nic.type = "network"
    nic.mac = "52:54:00:12:34:56"
    nic.source_network = "default"
    nic.model = "virtio"

    graphics = domain.graphics.add()
    graphics.type = "vnc"
    graphics.autoport = True
    graphics.listen = "127.0.0.1"
    graphics.passwd = "s3cret"
    return domain


# Building


def test_it_builds_a_domain_from_scratch():
    root = etree.fromstring(build_small_domain().to_xml().encode())

    assert root.tag == "domain" and root.get("type") == "test"
    assert root.xpath("string(name)") == "built-vm"
    assert root.xpath("memory/@unit") == ["KiB"] and root.xpath("number(memory)") == 1048576
    assert root.xpath("number(currentMemory)") == 524288
    assert root.xpath("string(vcpu)") == "2"
    assert root.xpath("os/type/text()") == ["hvm"] and root.xpath("os/type/@arch") == ["i686"]
    assert root.xpath("os/boot/@dev") == ["cdrom", "hd"]
    assert root.xpath("string(on_crash)") == "destroy"
    assert root.xpath("devices/disk/target/@dev") == ["vda", "hdc"]
    assert root.xpath("devices/disk[@device='disk']/driver/@type") == ["qcow2"]
    assert root.xpath("devices/disk[@device='disk']/source/@file") == ["/var/lib/libvirt/images/built-vm.qcow2"]
    assert len(root.xpath("devices/disk[@device='cdrom']/readonly")) == 1
    assert len(root.xpath("devices/disk[@device='disk']/readonly")) == 0
    assert root.xpath("devices/interface[@type='network']/source/@network") == ["default"]
    assert root.xpath("devices/interface/mac/@address") == ["52:54:00:12:34:56"]
    assert root.xpath("devices/interface/model/@type") == ["virtio"]
    assert root.xpath("devices/graphics/@autoport") == ["yes"]
    assert root.xpath("devices/graphics/listen[@type='address']/@address") == ["127.0.0.1"]


def test_it_orders_new_children_as_libvirt_prints_them():
    domain = DomainXML()
    domain.on_crash = "destroy"
    domain.vcpus = 1
    domain.name = "late-name"
    domain.memory_kib = 1024

    assert [child.tag for child in domain.element] == ["name", "memory", "vcpu", "on_crash"]


def test_it_removes_what_a_property_set_to_none_created():
    disk = DiskXML()
    disk.boot_order = 1
    disk.readonly = True
    assert disk.element.find("boot").get("order") == "1"

    disk.boot_order = None
    disk.readonly = False

    assert disk.element.find("boot") is None and disk.element.find("readonly") is None
    assert disk.boot_order is None and disk.readonly is False


def test_it_keeps_a_parent_that_still_holds_other_data():
    disk = DiskXML()
    disk.driver_name = "qemu"
    disk.format = "qcow2"

    disk.format = None

    assert disk.element.find("driver").attrib == {"name": "qemu"}


def test_it_replaces_the_boot_order_in_place():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    domain.boot_devices = ["cdrom", "network", "hd"]

    assert domain.boot_devices == ["cdrom", "network", "hd"]
    assert [child.tag for child in domain.element.find("os")] == ["type", "boot", "boot", "boot"]


def test_it_keeps_graphics_listen_attribute_and_element_in_step():
    graphics = GraphicsXML.from_xml(
        "<graphics type='spice' autoport='yes' listen='127.0.0.1'>"
        "<listen type='address' address='127.0.0.1'/></graphics>"
    )

    graphics.listen = "0.0.0.0"
    assert graphics.element.get("listen") == "0.0.0.0"
    assert graphics.element.find("listen").get("address") == "0.0.0.0"

    graphics.listen = None
    assert graphics.listen is None and graphics.element.find("listen") is None


def test_it_reads_listen_from_the_element_when_the_attribute_is_missing():
    graphics = GraphicsXML.from_xml("<graphics type='vnc'><listen type='address' address='10.0.0.5'/></graphics>")

    assert graphics.listen == "10.0.0.5"


# Parsing


def test_it_summarizes_a_libvirt_domain():
    assert summarize(LIBVIRT_DOMAIN) == {
        "name": "web01",
        "uuid": "2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12",
        "type": "kvm",
        "memory_kib": 4194304,
        "current_memory_kib": 2097152,
        "vcpus": 4,
        "arch": "x86_64",
        "machine": "pc-q35-7.2",
        "disks": [
            {"device": "disk", "target": "vda", "bus": "virtio",
             "source": "/var/lib/libvirt/images/web01.qcow2", "format": "qcow2", "readonly": False},
            {"device": "disk", "target": "vdb", "bus": "virtio",
             "source": "/dev/vg0/web01-data", "format": "raw", "readonly": False},
            {"device": "cdrom", "target": "sda", "bus": "sata",
             "source": "/var/lib/libvirt/boot/debian-12.5.0-amd64-netinst.iso", "format": "raw", "readonly": True},
        ],
        "interfaces": [
            {"type": "network", "mac": "52:54:00:6b:3c:58", "source": "default", "model": "virtio"},
            {"type": "bridge", "mac": "52:54:00:a1:22:07", "source": "br0", "model": "e1000e"},
        ],
        "graphics": [{"type": "vnc", "port": 5901, "listen": "0.0.0.0"}],
    }


def test_it_never_puts_the_graphics_password_in_the_summary():
    summary = summarize(LIBVIRT_DOMAIN)

    assert "hunter2" not in repr(summary)
    assert "passwd" not in summary["graphics"][0]


def test_it_reads_the_graphics_password_when_asked():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    assert domain.graphics[0].passwd == "hunter2"
    assert domain.graphics[0].autoport is True
    assert "hunter2" not in repr(domain.graphics[0])


def test_it_reads_the_other_domain_properties():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN, trusted=True)

    assert domain.title == "Front web server"
    assert domain.description == "nginx + php-fpm\nsecond line"
    assert domain.vcpus_current == 2
    assert domain.os_type == "hvm"
    assert domain.boot_devices == ["hd", "cdrom"]
    assert (domain.on_poweroff, domain.on_reboot, domain.on_crash) == ("destroy", "restart", "destroy")
    assert domain.emulator == "/usr/bin/qemu-system-x86_64"
    assert domain.interfaces[0].target_dev == "vnet2"
    assert domain.disks[0].driver_name == "qemu"


def test_it_describes_volume_network_and_direct_sources():
    domain = DomainXML.from_xml("""
      <domain type='kvm'><devices>
        <disk type='volume' device='disk'><source pool='fast' volume='db.qcow2'/><target dev='vdc'/></disk>
        <disk type='network' device='disk'>
          <source protocol='rbd' name='rbd-pool/img1'><host name='ceph1' port='6789'/></source>
          <target dev='vdd'/>
        </disk>
        <interface type='direct'><source dev='eno1' mode='bridge'/></interface>
        <interface type='user'/>
        <graphics type='spice' autoport='yes' port='-1'/>
      </devices></domain>""")

    assert [disk.source for disk in domain.disks] == ["fast/db.qcow2", "rbd:rbd-pool/img1"]
    assert [nic.source for nic in domain.interfaces] == ["eno1", None]
    assert domain.interfaces[0].source_mode == "bridge"
    assert summarize(domain.to_xml())["graphics"] == [{"type": "spice", "port": None, "listen": None}]


def test_it_reports_missing_values_as_none():
    domain = DomainXML()

    assert (domain.name, domain.memory_kib, domain.vcpus, domain.arch) == (None, None, None, None)
    assert domain.boot_devices == [] and list(domain.disks) == [] and len(domain.interfaces) == 0


# Round trips


def test_it_round_trips_unknown_elements_and_namespaces():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    out = domain.to_xml()

    assert canonical(out) == canonical(LIBVIRT_DOMAIN)
    root = etree.fromstring(out.encode())
    ns = {
        "libosinfo": "http://libosinfo.org/xmlns/libvirt/domain/1.0",
        "qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
    }
    assert root.xpath("metadata/libosinfo:libosinfo/libosinfo:os/@id", namespaces=ns) == ["http://debian.org/debian/12"]
    assert root.xpath("qemu:commandline/qemu:arg/@value", namespaces=ns) == ["-no-user-config"]
    assert "xmlns:libosinfo=" in out and "<qemu:commandline>" in out
    assert root.xpath("features/vmport/@state") == ["off"] and root.xpath("cpu/@mode") == ["host-passthrough"]
    assert root.xpath("devices/video/model/@type") == ["virtio"]


def test_it_edits_only_memory_and_vcpus():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    domain.memory_kib = 8 * 1024 * 1024
    domain.vcpus = 8
    out = domain.to_xml()

    root = etree.fromstring(out.encode())
    assert root.xpath("string(memory)") == "8388608" and root.xpath("memory/@unit") == ["KiB"]
    assert root.xpath("string(vcpu)") == "8"
    # The attributes of <vcpu> nobody asked to change survive.
    assert root.xpath("vcpu/@placement") == ["static"] and root.xpath("vcpu/@current") == ["2"]
    assert canonical(out, drop=("memory", "vcpu")) == canonical(LIBVIRT_DOMAIN, drop=("memory", "vcpu"))


def test_it_adds_a_disk_after_the_existing_disks():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)
    disk = DiskXML()
    disk.type = "file"
    disk.device = "disk"
    disk.driver_name = "qemu"
    disk.format = "raw"
    disk.source_file = "/var/lib/libvirt/images/web01-logs.img"
    disk.target_dev = "vdc"
    disk.target_bus = "virtio"

    added = domain.disks.add(disk)

    assert added == disk
    assert [d.target_dev for d in domain.disks] == ["vda", "vdb", "sda", "vdc"]
    devices = [child.tag for child in domain.element.find("devices")]
    assert devices.index("controller") == devices.index("disk") + 4  # grouped with the other disks
    reparsed = summarize(domain.to_xml())
    assert reparsed["disks"][-1] == {"device": "disk", "target": "vdc", "bus": "virtio",
                                     "source": "/var/lib/libvirt/images/web01-logs.img", "format": "raw",
                                     "readonly": False}


def test_it_removes_a_disk_and_nothing_else():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)
    cdrom = next(disk for disk in domain.disks if disk.device == "cdrom")

    domain.disks.remove(cdrom)

    assert [d.target_dev for d in domain.disks] == ["vda", "vdb"]
    original = etree.fromstring(LIBVIRT_DOMAIN.encode())
    original_devices = original.find("devices")
    original_devices.remove(original_devices.xpath("disk[@device='cdrom']")[0])
    assert canonical(domain.to_xml()) == canonical(etree.tostring(original))


def test_it_adds_the_first_child_creating_its_parent():
    domain = DomainXML()
    domain.name = "empty"
    domain.on_crash = "destroy"

    nic = domain.interfaces.add()
    nic.type = "bridge"
    nic.source_bridge = "br0"

    assert [child.tag for child in domain.element] == ["name", "on_crash", "devices"]
    assert [n.source for n in domain.interfaces] == ["br0"]


def test_it_serializes_one_device_on_its_own_for_hotplug():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    xml = domain.interfaces[1].to_xml()

    assert xml.startswith('<interface type="bridge">') and xml.endswith("</interface>\n")
    assert InterfaceXML.from_xml(xml).source_bridge == "br0"


def test_it_refuses_to_add_or_remove_the_wrong_children():
    domain = DomainXML.from_xml(LIBVIRT_DOMAIN)

    with pytest.raises(ValueError):
        domain.disks.add(InterfaceXML())
    with pytest.raises(ValueError):
        domain.disks.remove(DiskXML())


def test_it_supports_predicates_in_paths():
    class Clock(XMLObject):
        ROOT_TAG = "clock"
        rtc_policy = XMLProperty("./timer[@name='rtc']/@tickpolicy")
        hpet = XMLProperty("./timer[@name='hpet']/@present", "yesno")
        timers = XMLChildren("./timer", XMLObject)

    clock = Clock.from_xml("<clock offset='utc'><timer name='pit' tickpolicy='delay'/></clock>")
    clock.rtc_policy = "catchup"
    clock.hpet = False

    assert [(t.element.get("name"), dict(t.element.attrib)) for t in clock.timers] == [
        ("pit", {"name": "pit", "tickpolicy": "delay"}),
        ("rtc", {"name": "rtc", "tickpolicy": "catchup"}),
        ("hpet", {"name": "hpet", "present": "no"}),
    ]
    assert clock.hpet is False


# Memory units


@pytest.mark.parametrize(
    ("value", "unit", "kib"),
    [
        (1048576, None, 1048576),  # no unit: KiB
        (1048576, "KiB", 1048576),
        (4, "GiB", 4194304),
        (4, "G", 4194304),
        (4, "g", 4194304),
        (2, "MiB", 2048),
        (2, "M", 2048),
        (512, "k", 512),
        (1, "TiB", 1073741824),
        (1, "T", 1073741824),
        (2048, "b", 2),
        (2048, "bytes", 2),
        (1000, "KB", 977),  # 1,000,000 bytes, rounded up to whole KiB
        (1, "MB", 977),
        (1, "GB", 976563),
        (1, "b", 1),  # a partial KiB counts as one, as libvirt rounds
    ],
)
def test_it_converts_memory_units_to_kib(value, unit, kib):
    unit_attribute = "" if unit is None else f" unit='{unit}'"
    domain = DomainXML.from_xml(f"<domain><memory{unit_attribute}>{value}</memory></domain>")

    assert domain.memory_kib == kib
    assert to_kib(value, unit) == kib


def test_it_writes_memory_in_kib_whatever_unit_it_read():
    domain = DomainXML.from_xml(
        "<domain><memory unit='GiB'>4</memory><currentMemory unit='M'>512</currentMemory></domain>"
    )

    domain.memory_kib = domain.memory_kib * 2

    assert etree.tostring(domain.element.find("memory")) == b'<memory unit="KiB">8388608</memory>'
    assert domain.current_memory_kib == 524288


def test_it_knows_the_size_of_each_unit():
    assert unit_factor("EiB") == 2**60 and unit_factor("EB") == 10**18 and unit_factor("PB") == 10**15


@pytest.mark.parametrize("xml", [
    "<domain><memory unit='parsecs'>4</memory></domain>",
    "<domain><memory unit='KiBB'>4</memory></domain>",
    "<domain><memory unit='KiB'>four</memory></domain>",
    "<domain><memory unit='KiB'>-4</memory></domain>",
    "<domain><memory unit='KiB'>4.5</memory></domain>",
])
def test_it_rejects_invalid_memory(xml):
    with pytest.raises(InvalidConfig):
        DomainXML.from_xml(xml).memory_kib


def test_it_rejects_invalid_ints_and_flags():
    domain = DomainXML.from_xml(
        "<domain><vcpu>many</vcpu><devices><graphics type='vnc' autoport='maybe'/></devices></domain>"
    )

    with pytest.raises(InvalidConfig):
        domain.vcpus
    with pytest.raises(InvalidConfig):
        domain.graphics[0].autoport


# Hostile input

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<domain type='kvm'><name>&lol9;</name></domain>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<domain type='kvm'><name>&xxe;</name></domain>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<domain type='kvm'><name>x</name></domain>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE domain SYSTEM "file:///etc/passwd">
<domain type='kvm'><name>x</name></domain>"""


@pytest.mark.parametrize(
    "xml",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, EXTERNAL_DTD],
    ids=["billion-laughs", "external-entity", "parameter-entity", "external-dtd"],
)
def test_it_refuses_entities_and_doctypes(xml):
    with pytest.raises(InvalidConfig) as raised:
        DomainXML.from_xml(xml)

    assert "lol" not in raised.value.message and "root:" not in raised.value.message
    with pytest.raises(InvalidConfig):
        summarize(xml)
    with pytest.raises(InvalidConfig):
        summarize(xml.encode())


@pytest.mark.parametrize(
    "xml",
    [
        "<domain type='kvm'><name>x</name>",
        "<domain type='kvm'><name>x</nom></domain>",
        "not xml at all",
        "",
        "<domain type='kvm'>&undefined;</domain>",
    ],
)
def test_it_rejects_malformed_xml(xml):
    with pytest.raises(InvalidConfig):
        DomainXML.from_xml(xml)


def test_it_rejects_a_document_of_another_kind():
    with pytest.raises(InvalidConfig, match="Expected a <domain> document, got <network>"):
        DomainXML.from_xml("<network><name>default</name></network>")


def test_it_does_not_expand_entities_even_without_the_doctype_check():
    # Defence in depth: the hardened parser itself leaves a file entity unresolved.
    from virt.xml import parser

    root = etree.fromstring(EXTERNAL_ENTITY.encode(), parser._SAFE)

    assert "root:" not in etree.tostring(root, encoding="unicode")


# libvirt's test driver accepts what we build


@pytest.fixture
def test_driver():
    libvirt.registerErrorHandler(lambda *args: None, None)
    connection = libvirt.open("test:///default")
    yield connection
    connection.close()


def test_it_builds_xml_that_libvirt_accepts(test_driver):
    built = build_small_domain(name=f"xml-{uuid.uuid4().hex[:8]}")
    domain = test_driver.defineXML(built.to_xml())
    try:
        readback = domain.XMLDesc(0)
        secure = DomainXML.from_xml(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), trusted=True)
    finally:
        domain.undefine()

    summary = summarize(readback)
    assert summary["name"] == built.name and summary["uuid"] == built.uuid and summary["type"] == "test"
    assert (summary["memory_kib"], summary["current_memory_kib"], summary["vcpus"]) == (1048576, 524288, 2)
    assert [(d["device"], d["target"], d["format"], d["readonly"]) for d in summary["disks"]] == [
        ("disk", "vda", "qcow2", False),
        ("cdrom", "hdc", "raw", True),
    ]
    assert summary["interfaces"] == [
        {"type": "network", "mac": "52:54:00:12:34:56", "source": "default", "model": "virtio"}
    ]
    assert summary["graphics"] == [{"type": "vnc", "port": None, "listen": "127.0.0.1"}]
    # libvirt hides the password unless asked for the secure XML.
    assert DomainXML.from_xml(readback).graphics[0].passwd is None
    assert secure.graphics[0].passwd == "s3cret"
    assert secure.boot_devices == ["cdrom", "hd"] and secure.title == "Built by virtdeck"


def test_it_round_trips_xml_from_libvirt_through_an_edit(test_driver):
    built = build_small_domain(name=f"xml-{uuid.uuid4().hex[:8]}")
    domain = test_driver.defineXML(built.to_xml())
    try:
        parsed = DomainXML.from_xml(domain.XMLDesc(0), trusted=True)
        parsed.vcpus = 3
        parsed.disks.remove(parsed.disks[1])
        domain = test_driver.defineXML(parsed.to_xml())
        summary = summarize(domain.XMLDesc(0))
    finally:
        domain.undefine()

    assert summary["vcpus"] == 3
    assert [d["target"] for d in summary["disks"]] == ["vda"]
