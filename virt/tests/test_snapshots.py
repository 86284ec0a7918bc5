"""virt/snapshots and virt/external_revert: the tree, internal snapshots on the test driver, and the plan
for reverting to an external snapshot where libvirt cannot (pure). Real external snapshots: the lab."""
import libvirt
import pytest
from lxml import etree

from core.testing import node_uri
from virt.connection import ConnectionSpec, Pool
from virt.domain import Domain
from virt.errors import InvalidConfig, NotFound, OperationInvalid, Unsupported
from virt.external_revert import chain_files, plan_external_revert, referenced_files
from virt.snapshots import revert_stamp, tree_order
from virt.tests.test_xml_snapshot import EXTERNAL, INTERNAL

WEB1 = "11111111-1111-4111-8111-111111111111"
SNAPPY = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def on_node():
    pool = Pool(call_timeout=10, connect_timeout=5)

    def run(node, fn):
        return pool.call(ConnectionSpec(key=node, uri=node_uri(node)), fn)

    yield run
    pool.close_all()


def snapshots_of(uuid):
    return lambda conn: Domain.lookup(conn, uuid).snapshots


def test_it_lists_snapshots_as_a_tree(on_node):
    def make_tree(conn):
        snaps = Domain.lookup(conn, WEB1).snapshots
        snaps.create_internal("base", "clean install")
        snaps.create_internal("branch-a")
        snaps.revert("base")
        snaps.create_internal("branch-b")
        return snaps.list()

    tree = on_node("small", make_tree)

    assert [(s["name"], s["parent"], s["depth"], s["current"]) for s in tree] == [
        ("base", None, 0, False), ("branch-a", "base", 1, False), ("branch-b", "base", 1, True)]
    base = tree[0]
    assert base["description"] == "clean install" and base["kind"] == "internal" and base["state"] == "running"
    assert base["memory"] is True and isinstance(base["created"], int)
    current = on_node("small", lambda c: c.lookupByUUIDString(WEB1).snapshotCurrent(0).getName())
    assert current == "branch-b"


def test_it_reverts_and_deletes_internal_snapshots(on_node):
    def run(conn):
        snaps = Domain.lookup(conn, WEB1).snapshots
        snaps.create_internal("running")
        conn.lookupByUUIDString(WEB1).destroy()
        reverted = snaps.revert("running")
        state = conn.lookupByUUIDString(WEB1).state()[0]
        deleted = snaps.delete("running")
        return reverted, state, deleted, [s.getName() for s in conn.lookupByUUIDString(WEB1).listAllSnapshots()]

    reverted, state, deleted, left = on_node("small", run)

    assert reverted == {"name": "running", "method": "native"}
    assert state == libvirt.VIR_DOMAIN_RUNNING  # the snapshot's state, memory included
    assert deleted == {"name": "running", "metadata_only": False, "files_left": []} and left == []


def test_it_gives_one_snapshot_and_its_xml(on_node):
    on_node("small", lambda c: snapshots_of(WEB1)(c).create_internal("one", "first"))

    assert on_node("small", lambda c: snapshots_of(WEB1)(c).get("one"))["description"] == "first"
    assert etree.fromstring(on_node("small", lambda c: snapshots_of(WEB1)(c).xml("one"))).findtext("name") == "one"
    with pytest.raises(NotFound):
        on_node("small", lambda c: snapshots_of(WEB1)(c).get("missing"))


def test_it_reads_an_external_snapshot_from_a_node_file(on_node):
    [snapshot] = on_node("snapshots", lambda c: snapshots_of(SNAPPY)(c).list())

    assert snapshot | {"created": None} == {
        "name": "e1", "parent": None, "current": False, "created": None, "state": "disk-snapshot",
        "description": "", "kind": "external", "memory": False, "depth": 0}


def test_it_puts_the_definition_back_when_the_fresh_overlay_cannot_be_made(on_node):
    """The test driver refuses disk-only snapshots: the manual revert must not leave the disk on the image."""
    before = on_node("snapshots", lambda c: c.lookupByUUIDString(SNAPPY).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))

    with pytest.raises(InvalidConfig, match="unsupported flags"):
        on_node("snapshots", lambda c: snapshots_of(SNAPPY)(c).revert("e1"))  # libvirt 9.0 here: the manual way

    after = on_node("snapshots", lambda c: c.lookupByUUIDString(SNAPPY).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert after == before and "/srv/vm/snappy.e1" in after


def test_it_reverts_externally_by_hand_only_a_shut_off_vm(on_node):
    def run(conn):
        conn.lookupByUUIDString(SNAPPY).create()
        return snapshots_of(SNAPPY)(conn).revert_external_manually("e1")

    with pytest.raises(OperationInvalid, match="shut the VM down first"):
        on_node("snapshots", run)


def test_it_orders_a_tree_depth_first_oldest_child_first():
    entries = [
        {"name": "c", "parent": "a", "created": 3}, {"name": "a", "parent": None, "created": 1},
        {"name": "b", "parent": "a", "created": 2}, {"name": "d", "parent": "b", "created": 4},
        {"name": "orphan", "parent": "deleted-meanwhile", "created": 0},
    ]
    assert [(e["name"], e["depth"]) for e in tree_order(entries)] == [
        ("orphan", 0), ("a", 0), ("b", 1), ("d", 2), ("c", 1)]


# The VM of test_xml_snapshot.EXTERNAL now: renamed, on the overlay of e2, with a CD-ROM added since.
CURRENT = """\
<domain type='qemu'>
  <name>web-renamed</name>
  <uuid>ce8c0b5a-701a-410d-8afa-46bbbf287c75</uuid>
  <memory unit='KiB'>524288</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/vm/web.e2'/>
      <backingStore type='file'><format type='qcow2'/><source file='/srv/vm/web.e1'/></backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>
  </devices>
</domain>
"""


def test_it_plans_to_put_the_disks_back_on_the_frozen_images_under_fresh_overlays():
    plan = plan_external_revert(EXTERNAL, CURRENT, "20250101120000")
    domain = etree.fromstring(plan.domain_xml.encode())
    request = etree.fromstring(plan.overlay_request.encode())

    # The definition the snapshot recorded (inactiveDomain), under the VM's current name.
    assert domain.tag == "domain" and domain.findtext("name") == "web-renamed"
    assert domain.findtext("memory") == "307200" and domain.xpath("vcpu/@current") == ["1"]
    assert domain.xpath("devices/disk/source/@file") == ["/srv/vm/web.e1"]  # the image e2 froze
    assert domain.xpath("devices/disk/backingStore") == []
    assert plan.images == {"vda": "/srv/vm/web.e1"}
    assert plan.overlays == {"vda": "/srv/vm/web.revert-e2-20250101120000"}
    assert request.tag == "domainsnapshot"
    assert request.xpath("disks/disk[@name='vda'][@snapshot='external']/source/@file") == [plan.overlays["vda"]]
    assert plan.abandoned == ["/srv/vm/web.e2"]


def test_it_captures_no_other_disk_in_the_fresh_overlay_request():
    snapshot = EXTERNAL.replace("<disk name='sda' snapshot='no'/>", "").replace(
        "</devices>\n  </inactiveDomain>",
        "<disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>\n"
        "    </devices>\n  </inactiveDomain>")
    request = etree.fromstring(plan_external_revert(snapshot, CURRENT, "x").overlay_request.encode())

    assert request.xpath("disks/disk/@name") == ["vda", "sdb"]
    assert request.xpath("disks/disk[@name='sdb']/@snapshot") == ["no"]


@pytest.mark.parametrize(("snapshot", "error", "message"), [
    (INTERNAL, InvalidConfig, "internal"),
    (EXTERNAL.replace("<memory snapshot='no'/>", "<memory snapshot='external' file='/m'/>"), Unsupported, "memory"),
    (EXTERNAL.replace("<disk type='file' device='disk'>\n        <driver name='qemu' type='qcow2'/>\n"
                      "        <source file='/srv/vm/web.e1'/>\n        <target",
                      "<disk type='block' device='disk'>\n        <driver name='qemu' type='qcow2'/>\n"
                      "        <source dev='/dev/vg/web'/>\n        <target"), Unsupported, "not a file"),
])
def test_it_refuses_what_it_cannot_revert_by_hand(snapshot, error, message):
    with pytest.raises(error, match=message):
        plan_external_revert(snapshot, CURRENT, "x")


def test_it_names_the_files_snapshots_need_and_a_domain_uses():
    assert referenced_files([EXTERNAL, INTERNAL]) == {"/srv/vm/web.e1", "/srv/vm/web.qcow2"}
    assert chain_files(CURRENT) == {"/srv/vm/web.e2", "/srv/vm/web.e1"}


@pytest.mark.parametrize("name", ["a/b", "../up", "", "-rf", "line\n", "x" * 241, "tab\there", "\u202eevil", None])
def test_it_refuses_a_snapshot_name_libvirt_would_turn_into_a_path(on_node, name):
    with pytest.raises(InvalidConfig, match="Invalid snapshot name"):
        on_node("small", lambda c: snapshots_of(WEB1)(c).create_internal(name))
    assert on_node("small", lambda c: c.lookupByUUIDString(WEB1).snapshotNum(0)) == 0


def test_it_accepts_ordinary_snapshot_names(on_node):
    for name in ("before upgrade", "2025-01-01_12:00", "vor-dem-Update-ü", "x" * 128):
        assert on_node("small", lambda c, n=name: snapshots_of(WEB1)(c).create_internal(n))["name"] == name


def test_it_names_the_overlays_of_two_reverts_in_the_same_second_apart():
    """Two manual reverts within a second once collided: "external snapshot file ... already exists"."""
    stamps = {revert_stamp() for _ in range(50)}
    assert len(stamps) == 50
