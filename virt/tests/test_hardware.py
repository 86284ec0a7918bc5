"""virt/hardware's and virt/disk_changes' pure checks and virt/xml/cpu; the changes themselves are tested through the API on the test
driver (instances/tests/test_api_devices.py) and on real QEMU guests (instances/tests/test_lab_devices.py)."""
import pytest

from virt.errors import InvalidConfig, InvalidValue
from virt.disk_changes import check_target, next_target
from virt.hardware import check_listen, random_mac
from virt.xml.cpu import CpuXML
from virt.xml.devices import InterfaceXML
from virt.xml.domain import DomainXML


def test_it_picks_the_next_free_target_for_a_bus():
    assert next_target(set(), "virtio") == "vda"
    assert next_target({"vda", "vdb", "sdc"}, "virtio") == "vdc"
    assert next_target({"vda", "sda"}, "sata") == "sdb" and next_target(set(), "ide") == "hda"
    assert next_target({f"vd{c}" for c in "abcdefghijklmnopqrstuvwxyz"}, "virtio") == "vdaa"


@pytest.mark.parametrize(("target", "bus", "message"), [
    ("vda", "virtio", "already has"), ("sdb", "virtio", "named vd"), ("vd", "virtio", "not a disk target"),
    ("../x", "virtio", "not a disk target"), ("vdB", "virtio", "not a disk target"), (7, "virtio", "not a disk"),
])
def test_it_refuses_a_target_that_is_taken_malformed_or_of_another_bus(target, bus, message):
    with pytest.raises(InvalidValue, match=message) as caught:
        check_target(target, bus, {"vda"})
    assert caught.value.field == "target"


def test_it_refuses_an_unknown_bus_naming_it():
    with pytest.raises(InvalidValue) as caught:
        next_target(set(), "floppy")
    assert caught.value.field == "bus" and "virtio" in caught.value.message


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "::1", "::"])
def test_it_accepts_ip_listen_addresses(address):
    assert check_listen(address) == address


@pytest.mark.parametrize("address", ["localhost", "127.0.0.1 ", "1.2.3.4/24", "", None, "::1%eth0;x"])
def test_it_refuses_listen_addresses_that_are_not_ips(address):
    with pytest.raises(InvalidValue) as caught:
        check_listen(address)
    assert caught.value.field == "vnc_listen"


def test_it_makes_unicast_macs_in_qemus_range_not_already_taken():
    taken = {random_mac() for _ in range(50)}
    mac = random_mac(taken)
    assert mac.startswith("52:54:00:") and mac not in taken
    InterfaceXML.build("network", "lan", mac=mac)  # accepted by the builder's own check


@pytest.mark.parametrize("mac", ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "53:54:00:00:00:01"])
def test_it_refuses_multicast_and_null_macs(mac):
    with pytest.raises(InvalidConfig, match="multicast or null"):
        InterfaceXML.build("network", "lan", mac=mac)


def test_it_switches_cpu_modes_keeping_the_topology():
    domain = DomainXML.from_xml(
        "<domain type='kvm'><name>a</name><vcpu>4</vcpu><os><type>hvm</type></os><cpu mode='host-model' "
        "check='partial'><topology sockets='1' cores='2' threads='2'/><feature policy='require' name='vmx'/></cpu>"
        "<devices/></domain>")

    CpuXML.of(domain).set_mode("custom", "qemu64")

    cpu = domain.element.find("cpu")
    assert (cpu.get("mode"), cpu.get("match"), cpu.get("check")) == ("custom", "exact", None)
    assert [child.tag for child in cpu] == ["model", "topology"]  # libvirt's order; the feature went
    assert cpu.find("model").text == "qemu64" and cpu.find("model").get("fallback") == "forbid"

    CpuXML.of(domain).set_mode("host-passthrough")
    assert cpu.attrib == {"mode": "host-passthrough"} and [child.tag for child in cpu] == ["topology"]


def test_it_adds_a_cpu_element_in_libvirts_order():
    domain = DomainXML.from_xml("<domain type='kvm'><name>a</name><os><type>hvm</type></os><clock offset='utc'/>"
                                "<devices/></domain>")

    CpuXML.of(domain).set_mode("host-model")

    assert [child.tag for child in domain.element] == ["name", "os", "cpu", "clock", "devices"]
