"""virt/xml/diff: which parts of two definitions differ, ignoring what only a running VM has. Pure."""
import pytest

from virt.errors import InvalidConfig
from virt.xml.diff import changed_parts, next_boot_changes, parts
from virt.xml.domain import DomainXML

# The saved configuration of a VM (what `virsh dumpxml --inactive` prints, trimmed).
INACTIVE = """\
<domain type='kvm'>
  <name>web01</name>
  <uuid>2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12</uuid>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web01.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci'/>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target type='isa-serial' port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video><model type='virtio'/></video>
  </devices>
</domain>
"""

# The same VM running, unchanged: what only a running VM has is added (as `virsh dumpxml` prints it).
LIVE = """\
<domain type='kvm' id='7'>
  <name>web01</name>
  <uuid>2f1b8a3e-6d7c-4b0e-9a51-0c3d5e7f9a12</uuid>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <resource><partition>/machine</partition></resource>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web01.qcow2' index='1'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci'><alias name='usb'/></controller>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default' portid='8d1f0c55-5e43-4a0e-8f25-8c7a1f3e2b6d' bridge='virbr0'/>
      <target dev='vnet2'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
    <serial type='pty'><source path='/dev/pts/3'/><target type='isa-serial' port='0'/><alias name='serial0'/></serial>
    <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><target type='serial' port='0'/></console>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-7-web01/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/>
      <alias name='channel0'/>
    </channel>
    <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video><model type='virtio'/><alias name='video0'/></video>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+64055</label></seclabel>
</domain>
"""


def edited(xml, old, new):
    assert old in xml
    return xml.replace(old, new)


def test_it_names_parts_as_a_person_recognizes_them():
    assert list(parts(INACTIVE)) == [
        "name", "uuid", "memory", "currentMemory", "vcpu", "os", "disk vda", "controller usb 0",
        "interface 52:54:00:6b:3c:58", "serial 1", "console 1", "channel 1", "graphics vnc", "video 1", "@type",
    ]


def test_it_sees_no_pending_change_on_a_vm_running_its_configuration():
    assert next_boot_changes(LIVE, INACTIVE) == []


def test_it_lists_the_configuration_changes_a_running_vm_does_not_have_yet():
    inactive = edited(INACTIVE, "<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>4</vcpu>")
    inactive = edited(inactive, "<model type='virtio'/>\n    </interface>", "<model type='e1000e'/>\n    </interface>")
    inactive = edited(inactive, "<video>", "<sound model='ich9'/>\n    <video>")

    assert next_boot_changes(LIVE, inactive) == [
        {"part": "vcpu", "change": "changed"},
        {"part": "interface 52:54:00:6b:3c:58", "change": "changed"},
        {"part": "sound 1", "change": "added"},
    ]


def test_it_reports_removed_parts_last():
    new = edited(INACTIVE, "<controller type='usb' index='0' model='qemu-xhci'/>", "")
    new = edited(new, "<name>web01</name>", "<name>web02</name>")

    assert changed_parts(INACTIVE, new) == [
        {"part": "name", "change": "changed"}, {"part": "controller usb 0", "change": "removed"},
    ]


def test_it_ignores_formatting_and_attribute_order():
    reformatted = INACTIVE.replace("\n    ", "").replace("<graphics type='vnc' port='-1' autoport='yes'",
                                                           "<graphics autoport='yes' port='-1' type='vnc'")
    assert changed_parts(INACTIVE, reformatted) == []


def test_it_sees_a_fixed_graphics_port_change():
    fixed = edited(INACTIVE, "port='-1' autoport='yes'", "port='5905' autoport='no'")
    assert changed_parts(INACTIVE, fixed) == [{"part": "graphics vnc", "change": "changed"}]


def test_it_takes_domain_objects_and_leaves_them_untouched():
    live = DomainXML.from_xml(LIVE)
    before = live.to_xml()

    assert next_boot_changes(live, DomainXML.from_xml(INACTIVE)) == []
    assert live.to_xml() == before


def test_it_refuses_hostile_xml():
    with pytest.raises(InvalidConfig):
        changed_parts(INACTIVE, "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain>&x;</domain>")


def test_it_leaves_to_the_running_vm_what_only_it_decides():
    """The balloon's actual size and the CPU features QEMU enabled itself (as libvirt 9.0 prints them)."""
    live = edited(LIVE, "<currentMemory unit='KiB'>4194304</currentMemory>",
                  "<currentMemory unit='KiB'>3145728</currentMemory>")
    live = edited(live, "<vcpu placement='static'>2</vcpu>",
                  "<vcpu placement='static'>2</vcpu>\n  <cpu mode='custom' match='exact' check='full'>"
                  "<model fallback='forbid'>qemu64</model><feature policy='require' name='hypervisor'/></cpu>")
    saved = edited(INACTIVE, "<vcpu placement='static'>2</vcpu>",
                   "<vcpu placement='static'>2</vcpu>\n  <cpu mode='custom' match='exact' check='none'>"
                   "<model fallback='forbid'>qemu64</model></cpu>")

    assert next_boot_changes(live, saved) == []
    assert changed_parts(live, saved) == [{"part": "currentMemory", "change": "changed"},
                                          {"part": "cpu", "change": "changed"}]
    assert next_boot_changes(live, saved.replace("qemu64", "Nehalem")) == [{"part": "cpu", "change": "changed"}]


def test_it_cannot_tell_a_change_to_host_model_from_its_expansion():
    live = edited(LIVE, "<vcpu placement='static'>2</vcpu>",
                  "<vcpu placement='static'>2</vcpu><cpu mode='custom' match='exact'><model>Skylake</model></cpu>")
    saved = edited(INACTIVE, "<vcpu placement='static'>2</vcpu>",
                   "<vcpu placement='static'>2</vcpu><cpu mode='host-model'/>")
    assert next_boot_changes(live, saved) == []  # the documented gap
