"""The clone's XML (pure): what changes and what is kept."""
from virt.clone import SourceDisk, clone_xml
from virt.xml.domain import DomainXML

SOURCE = """<domain type='kvm'>
  <name>web1</name><uuid>11111111-1111-4111-8111-111111111111</uuid>
  <memory unit='KiB'>262144</memory><vcpu>1</vcpu>
  <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>
    <nvram>/var/lib/libvirt/qemu/nvram/web1_VARS.fd</nvram></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/pool/web1.qcow2'/>
      <backingStore type='file'><format type='qcow2'/><source file='/pool/base.qcow2'/></backingStore>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/d.iso'/>
      <target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/>
      <model type='virtio'/></interface>
    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/></graphics>
  </devices>
</domain>"""


def test_it_renames_and_drops_uuid_macs_port_and_uefi_variables():
    clone = DomainXML.from_xml(clone_xml(SOURCE, "web2", {"vda": ("fast", "web2-vda.qcow2")}), trusted=True)
    assert (clone.name, clone.uuid, clone.firmware) == ("web2", None, "efi")
    assert clone.element.find("os/nvram") is None
    (nic,) = list(clone.interfaces)
    assert (nic.mac, nic.source, nic.model) == (None, "default", "virtio")
    (graphics,) = list(clone.graphics)
    assert (graphics.port, graphics.autoport, graphics.listen) == (None, True, "127.0.0.1")


def test_it_points_copied_disks_at_their_new_volumes_and_keeps_the_cdrom():
    clone = DomainXML.from_xml(clone_xml(SOURCE, "web2", {"vda": ("fast", "web2-vda.qcow2")}), trusted=True)
    disk, cdrom = list(clone.disks)
    assert (disk.type, disk.source, disk.format, disk.target_dev) == ("volume", "fast/web2-vda.qcow2", "qcow2", "vda")
    assert disk.source_file is None and disk.element.find("backingStore") is None  # the copy is flattened
    assert (cdrom.device, cdrom.source_file) == ("cdrom", "/iso/d.iso")


def test_it_names_each_copy_after_the_vm_and_its_target():
    assert SourceDisk("vdb", "p", "x.img", "raw", 0, 1).clone_name("web2") == "web2-vdb.img"
    assert SourceDisk("vda", "p", "x.qcow2", "qcow2", 0, 1).clone_name("web2") == "web2-vda.qcow2"
