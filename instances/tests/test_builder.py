"""The wizard's pure builder: answers -> checked answers -> domain XML, for each install method, firmware
and storage choice, read back through the virt/xml mapping (no libvirt here)."""
import pytest
from lxml import etree

from instances.builder import (
    AnswerErrors,
    Answers,
    apply_host,
    build_domain,
    clean_answers,
)
from virt.guest_caps import GuestCaps
from virt.osinfo import GENERIC, database
from virt.xml.domain import DomainXML

QEMU = GuestCaps(arch="x86_64", domain_type="qemu", reason="kvm-no-vmx", domain_types=("qemu", "kvm"),
                 emulator="/usr/bin/qemu-system-x86_64", machines=("pc", "q35", "pc-q35-7.2"),
                 default_machine="pc-i440fx-7.2", max_vcpus=4, memory_mib=8192)
UEFI_HOST = GuestCaps(**{**QEMU.__dict__, "uefi": True, "uefi_loaders": ("/usr/share/OVMF/OVMF_CODE.fd",)})


def build(caps=QEMU, os_variant="debian11", **data):
    guest_os = database().get(os_variant) or GENERIC
    answers = apply_host(clean_answers({"name": "vm1", "os_variant": os_variant, **data}), caps, guest_os)
    return DomainXML.from_xml(build_domain(answers, caps, guest_os).to_xml(), trusted=True)


def errors_of(call, *args, **kwargs):
    with pytest.raises(AnswerErrors) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def test_it_builds_an_iso_install_booting_the_cdrom_then_the_new_disk():
    domain = build(install="iso", iso_volume="iso/debian-11.iso", disk_pool="images", disk_size_gib=8)
    disk, cdrom = list(domain.disks)
    assert (disk.device, disk.source_pool, disk.source_volume, disk.format, disk.target_bus) == \
        ("disk", "images", "vm1.qcow2", "qcow2", "virtio")
    assert (cdrom.device, cdrom.source, cdrom.readonly, cdrom.target_bus) == \
        ("cdrom", "iso/debian-11.iso", True, "sata")
    assert domain.boot_devices == ["cdrom", "hd"]
    assert (domain.type, domain.arch, domain.machine, domain.emulator) == \
        ("qemu", "x86_64", "q35", "/usr/bin/qemu-system-x86_64")


def test_it_builds_an_import_with_the_existing_volume_as_the_disk():
    guest_os = database().get("debian11")
    answers = apply_host(clean_answers({"name": "vm1", "install": "import", "import_volume": "images/app.qcow2"}),
                         QEMU, guest_os)
    domain = build_domain(answers, QEMU, guest_os, import_format="qcow2")
    (disk,) = list(domain.disks)
    assert (disk.source, disk.format, disk.device) == ("images/app.qcow2", "qcow2", "disk")
    assert domain.boot_devices == ["hd"]


def test_it_builds_a_network_boot_from_the_nic():
    domain = build(install="pxe", network="default")
    (nic,) = list(domain.interfaces)
    assert (nic.type, nic.source, nic.model) == ("network", "default", "virtio")
    assert domain.boot_devices == ["network"] and len(domain.disks) == 0


def test_it_builds_no_media_with_a_bridge_and_vnc():
    domain = build(install="none", bridge="br0")
    (nic,) = list(domain.interfaces)
    (graphics,) = list(domain.graphics)
    assert (nic.type, nic.source) == ("bridge", "br0")
    assert (graphics.type, graphics.autoport, graphics.listen) == ("vnc", True, "127.0.0.1")
    assert domain.boot_devices == ["hd"]


def test_it_uses_sata_and_e1000_for_an_os_without_virtio_on_the_old_machine():
    domain = build(os_variant="winxp", install="none", disk_pool="images", network="default")
    (disk,), (nic,) = list(domain.disks), list(domain.interfaces)
    assert domain.machine == "pc" and disk.target_bus == "ide" and nic.model == "e1000"
    assert etree.fromstring(domain.to_xml().encode()).find("clock").get("offset") == "localtime"


def test_it_fills_memory_vcpus_and_disk_size_from_the_os_recommendation():
    domain = build(disk_pool="images")
    assert domain.memory_kib == 1024 * 1024 and domain.vcpus == 1
    answers = apply_host(clean_answers({"name": "vm1", "disk_pool": "images"}), QEMU, database().get("debian11"))
    assert answers.disk_size_gib == 20


def test_it_writes_a_raw_thick_volume_name_for_raw():
    domain = build(disk_pool="images", disk_format="raw", disk_allocation="thick", disk_size_gib=2)
    (disk,) = list(domain.disks)
    assert (disk.source_volume, disk.format) == ("vm1.img", "raw")


def test_it_sets_uefi_firmware_only_where_the_host_has_ovmf():
    assert build(caps=UEFI_HOST, firmware="uefi").firmware == "efi"
    assert build(caps=UEFI_HOST, firmware="bios").firmware is None
    errors = errors_of(apply_host, clean_answers({"name": "vm1", "firmware": "uefi"}), QEMU, GENERIC)
    assert "UEFI" in errors["firmware"]


def test_it_enforces_the_hosts_vcpus_and_memory():
    errors = errors_of(apply_host, clean_answers({"name": "vm1", "vcpus": 5, "memory_mib": 8193}), QEMU, GENERIC)
    assert set(errors) == {"vcpus", "memory_mib"} and "4" in errors["vcpus"] and "8192" in errors["memory_mib"]


def test_it_records_the_os_in_the_metadata():
    xml = build(os_variant="debian11").to_xml()
    assert 'short-id="debian11"' in xml


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "a/b"}, "name"),
    ({"name": ""}, "name"),
    ({"name": "-rf"}, "name"),
    ({"name": "vm\u202e1"}, "name"),
    ({"name": "vm1", "vcpus": 0}, "vcpus"),
    ({"name": "vm1", "vcpus": -3}, "vcpus"),
    ({"name": "vm1", "vcpus": True}, "vcpus"),
    ({"name": "vm1", "vcpus": "lots"}, "vcpus"),
    ({"name": "vm1", "vcpus": 1.5}, "vcpus"),
    ({"name": "vm1", "memory_mib": 1}, "memory_mib"),
    ({"name": "vm1", "disk_pool": "images", "disk_size_gib": 10**12}, "disk_size_gib"),
    ({"name": "vm1", "disk_pool": "images", "disk_size_gib": -1}, "disk_size_gib"),
    ({"name": "vm1", "install": "floppy"}, "install"),
    ({"name": "vm1", "install": "iso"}, "iso_volume"),
    ({"name": "vm1", "install": "iso", "iso_volume": "iso/../../etc/passwd"}, "iso_volume"),
    ({"name": "vm1", "install": "iso", "iso_volume": "iso/.."}, "iso_volume"),
    ({"name": "vm1", "install": "iso", "iso_volume": "just-a-name"}, "iso_volume"),
    ({"name": "vm1", "install": "import"}, "import_volume"),
    ({"name": "vm1", "install": "pxe"}, "network"),
    ({"name": "vm1", "disk_pool": "../x"}, "disk_pool"),
    ({"name": "vm1", "disk_format": "vmdk"}, "disk_format"),
    ({"name": "vm1", "disk_allocation": "fat"}, "disk_allocation"),
    ({"name": "vm1", "firmware": "coreboot"}, "firmware"),
    ({"name": "vm1", "network": "default", "bridge": "br0"}, "bridge"),
    ({"name": "vm1", "disk_pool": "images", "import_volume": "images/a.qcow2"}, "disk_pool"),
    ({"name": "vm1", "memroy_mib": 512}, "memroy_mib"),
    ({"name": ["vm1"]}, "name"),
])
def test_it_names_the_field_of_each_bad_answer(data, field):
    assert field in errors_of(clean_answers, data)


def test_it_accepts_form_strings_for_numbers_and_flags():
    answers = clean_answers({"name": "vm1", "vcpus": " 2 ", "memory_mib": "512", "start": "on",
                             "disk_size_gib": ""})
    assert (answers.vcpus, answers.memory_mib, answers.start, answers.disk_size_gib) == (2, 512, True, None)
    assert Answers(name="vm1", disk_pool="p").new_volume_name == "vm1.qcow2"
