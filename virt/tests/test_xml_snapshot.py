"""virt/xml/snapshot: snapshot XML built and parsed; internal vs external; the recorded definition."""
from lxml import etree

from virt.xml.snapshot import SnapshotXML

# What libvirt 9.0 printed here for `--disk-only --atomic` of a running lab guest (trimmed).
EXTERNAL = """\
<domainsnapshot>
  <name>e2</name>
  <description>before the upgrade</description>
  <state>disk-snapshot</state>
  <parent>
    <name>e1</name>
  </parent>
  <creationTime>1796072979</creationTime>
  <memory snapshot='no'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'>
      <driver type='qcow2'/>
      <source file='/srv/vm/web.e2'/>
    </disk>
    <disk name='sda' snapshot='no'/>
  </disks>
  <domain type='qemu'>
    <name>web</name>
    <uuid>ce8c0b5a-701a-410d-8afa-46bbbf287c75</uuid>
    <memory unit='KiB'>262144</memory>
    <vcpu placement='static'>1</vcpu>
    <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2'/>
        <source file='/srv/vm/web.e1'/>
        <backingStore type='file'><format type='qcow2'/><source file='/srv/vm/web.qcow2'/></backingStore>
        <target dev='vda' bus='virtio'/>
      </disk>
    </devices>
  </domain>
  <inactiveDomain type='qemu'>
    <name>web</name>
    <uuid>ce8c0b5a-701a-410d-8afa-46bbbf287c75</uuid>
    <memory unit='KiB'>307200</memory>
    <vcpu placement='static' current='1'>2</vcpu>
    <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2'/>
        <source file='/srv/vm/web.e1'/>
        <target dev='vda' bus='virtio'/>
      </disk>
    </devices>
  </inactiveDomain>
</domainsnapshot>
"""

# libvirt's test driver, internal snapshot of a running domain.
INTERNAL = """\
<domainsnapshot>
  <name>s1</name>
  <state>running</state>
  <creationTime>1796072866</creationTime>
  <memory snapshot='internal'/>
  <disks>
    <disk name='vda' snapshot='internal'/>
  </disks>
  <domain type='test'><name>web1</name><memory>524288</memory><os><type>hvm</type></os></domain>
  <active>1</active>
</domainsnapshot>
"""


def test_it_reads_an_external_snapshot():
    snapshot = SnapshotXML.from_xml(EXTERNAL, trusted=True)

    assert (snapshot.name, snapshot.description, snapshot.state) == ("e2", "before the upgrade", "disk-snapshot")
    assert snapshot.parent == "e1" and snapshot.creation_time == 1796072979
    assert snapshot.memory_snapshot == "no" and snapshot.kind == "external"
    assert snapshot.external_disks == {"vda": "/srv/vm/web.e2"}
    assert [(d.name, d.snapshot, d.format) for d in snapshot.disks] == [
        ("vda", "external", "qcow2"), ("sda", "no", None)]


def test_it_reads_an_internal_snapshot():
    snapshot = SnapshotXML.from_xml(INTERNAL)

    assert snapshot.kind == "internal" and snapshot.parent is None and snapshot.description is None
    assert snapshot.memory_snapshot == "internal" and snapshot.external_disks == {}


def test_it_calls_a_snapshot_with_external_memory_external():
    snapshot = SnapshotXML.from_xml(INTERNAL.replace("<memory snapshot='internal'/>",
                                                     "<memory snapshot='external' file='/srv/vm/web.mem'/>"))
    assert snapshot.kind == "external" and snapshot.memory_file == "/srv/vm/web.mem"


def test_it_gives_the_persistent_definition_of_a_running_vm_as_a_standalone_domain():
    snapshot = SnapshotXML.from_xml(EXTERNAL, trusted=True)
    definition = snapshot.definition()

    assert definition.element.tag == "domain" and definition.memory_kib == 307200 and definition.vcpus == 2
    assert definition.disks[0].source_file == "/srv/vm/web.e1"
    definition.name = "changed"  # a copy: the snapshot is untouched
    assert snapshot.element.findtext("inactiveDomain/name") == "web"
    assert etree.fromstring(definition.to_xml().encode()).tag == "domain"


def test_it_falls_back_to_the_domain_and_to_nothing():
    assert SnapshotXML.from_xml(INTERNAL).definition().name == "web1"
    assert SnapshotXML.build("bare").definition() is None


def test_it_builds_an_internal_snapshot_request():
    root = etree.fromstring(SnapshotXML.build("s1", "first").to_xml().encode())

    assert [child.tag for child in root] == ["name", "description"]
    assert root.findtext("name") == "s1" and root.findtext("description") == "first"


def test_it_builds_an_external_request_with_and_without_overlay_paths():
    built = SnapshotXML.build("e1", external_disks={"vda": "/srv/vm/web.new", "vdb": None})
    back = SnapshotXML.from_xml(built.to_xml())

    assert back.external_disks == {"vda": "/srv/vm/web.new", "vdb": None}
    assert back.kind == "external" and back.description is None
    assert built.element.xpath("disks/disk[@name='vda']/@type") == ["file"]
    assert built.element.xpath("disks/disk[@name='vdb']/@type") == []


def test_it_keeps_what_it_does_not_know_when_editing():
    snapshot = SnapshotXML.from_xml(EXTERNAL, trusted=True)
    snapshot.description = "renamed"
    root = etree.fromstring(snapshot.to_xml().encode())

    assert root.findtext("description") == "renamed"
    assert root.xpath("inactiveDomain/vcpu/@current") == ["1"]
    assert root.xpath("domain/devices/disk/backingStore/source/@file") == ["/srv/vm/web.qcow2"]
