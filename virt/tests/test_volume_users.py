"""Which domains use a volume, and pointing a shut-off domain's disks at another volume (test driver + pure)."""
import libvirt
import pytest

from core.testing import node_uri
from virt.errors import InvalidConfig, OperationInvalid
from virt.volume_users import domains_using, switch_disks, use_volume_instead
from virt.xml.domain import DomainXML

IMAGES = "/var/lib/virtdeck-test/images"
DOMAIN = f"""<domain type='test'><name>vm</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{IMAGES}/a.raw'/>
    <target dev='vda'/></disk>
  <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg0/a'/><target dev='vdb'/></disk>
  <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='images' volume='a.raw'/>
    <target dev='vdc'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{IMAGES}/other.qcow2'/>
    <target dev='vdd'/></disk>
</devices></domain>"""


@pytest.fixture
def conn():
    connection = libvirt.open(node_uri("storage"))
    yield connection
    connection.close()


def test_it_switches_path_and_pool_volume_disks_and_nothing_else():
    xml = DomainXML.from_xml(DOMAIN)
    old = ({f"{IMAGES}/a.raw"}, "images", "a.raw")
    new = ({"/srv/fast/a.qcow2"}, "fast", "a.qcow2")
    assert switch_disks(xml, old, new, "qcow2") == ["vda", "vdc"]
    disks = {disk.target_dev: disk for disk in xml.disks}
    assert (disks["vda"].type, disks["vda"].source_file, disks["vda"].format) == ("file", "/srv/fast/a.qcow2", "qcow2")
    assert (disks["vdc"].type, disks["vdc"].source_pool, disks["vdc"].source_volume) == ("volume", "fast", "a.qcow2")
    assert disks["vdb"].source_dev == "/dev/vg0/a" and disks["vdd"].source_file == f"{IMAGES}/other.qcow2"


def test_it_turns_a_block_disk_into_a_file_disk():
    xml = DomainXML.from_xml(DOMAIN)
    assert switch_disks(xml, ({"/dev/vg0/a"}, "vg0", "a"), ({"/srv/a.raw"}, "p", "a.raw"), "raw") == ["vdb"]
    disk = next(d for d in xml.disks if d.target_dev == "vdb")
    assert (disk.type, disk.source_dev, disk.source_file) == ("file", None, "/srv/a.raw")


def test_it_finds_the_domains_using_a_volume(conn):
    users = domains_using(conn, {f"{IMAGES}/web1.qcow2"})
    assert [(u.name, u.target, u.active) for u in users] == [("web1", "vda", True)]
    assert domains_using(conn, {f"{IMAGES}/thin.raw"}) == []


def test_it_redefines_a_shut_off_domain_on_the_new_volume(conn):
    old = ({f"{IMAGES}/web1.qcow2"}, "images", "web1.qcow2")
    new = ({f"{IMAGES}/web1.raw"}, "images", "web1.raw")
    with pytest.raises(OperationInvalid, match="shut off"):
        use_volume_instead(conn, "11111111-1111-4111-8111-111111111111", old, new, "raw")
    conn.lookupByName("web1").destroy()
    assert use_volume_instead(conn, "11111111-1111-4111-8111-111111111111", old, new, "raw") == ["vda"]
    assert [u.name for u in domains_using(conn, {f"{IMAGES}/web1.raw"})] == ["web1"]
    assert domains_using(conn, {f"{IMAGES}/web1.qcow2"}) == []
    with pytest.raises(InvalidConfig, match="no disk"):
        use_volume_instead(conn, "11111111-1111-4111-8111-111111111111", old, new, "raw")
