"""virt/storage.py against libvirt's test driver: pool records, RPC counts, capabilities, pool actions."""
import libvirt
import pytest

from core.testing import node_uri
from virt import storage
from virt.connection import ConnectionSpec, Pool
from virt.errors import InvalidConfig, NotFound, OperationInvalid
from virt.tests.counting import Counting
from virt.xml.storage import POOL_TYPES, build_pool

GIB = 2**30


@pytest.fixture
def pool():
    p = Pool(call_timeout=10.0)
    yield p
    p.close_all()


@pytest.fixture
def host(pool):
    """call(fn) runs fn(conn) on the storage node fixture as services will: through the pool."""
    spec = ConnectionSpec(key="storage", uri=node_uri("storage"))
    return lambda fn: pool.call(spec, fn)


def _node_with_pools(tmp_path, pools, volumes_each):
    pool_xml = "".join(
        f"<pool type='dir'><name>p{p}</name><target><path>/srv/p{p}</path></target>"
        + "".join(f"<volume><name>v{v}.img</name><capacity>{GIB}</capacity></volume>" for v in range(volumes_each))
        + "</pool>"
        for p in range(pools)
    )
    path = tmp_path / f"pools-{pools}-{volumes_each}.xml"
    path.write_text(f"<node>{pool_xml}</node>")
    return f"test://{path}"


def test_it_collects_every_pool_of_the_host(host):
    records = {r.name: r for r in host(storage.collect_pools)}
    assert sorted(records) == ["images", "iso", "nfs-share", "vg0"]
    images = records["images"]
    assert (images.uuid, images.type, images.state, images.active) == (
        "5a0e1f3c-0000-4000-8000-000000000001", "dir", "running", True)
    assert (images.autostart, images.persistent) == (False, True)
    assert images.target_path == "/var/lib/virtdeck-test/images"
    # The test driver sums its volumes' allocations: 1200 + 300 MiB + 0 + 2 GiB.
    assert images.allocation == (1500 << 20) + 2 * GIB
    assert images.capacity == images.allocation + images.available
    nfs = records["nfs-share"]
    assert (nfs.type, nfs.source, nfs.source_format) == ("netfs", "nas.example.org:/export/vms", "nfs")
    assert records["vg0"].source == "/dev/sdb" and records["vg0"].source_format == "lvm2"
    assert images.as_dict()["name"] == "images"


@pytest.mark.parametrize(("pools", "volumes_each"), [(1, 0), (4, 0), (4, 50)])
def test_it_reads_pools_with_three_plus_two_rpcs_per_pool_whatever_their_volumes(tmp_path, pools, volumes_each):
    conn = libvirt.open(_node_with_pools(tmp_path, pools, volumes_each))
    try:
        counting = Counting(conn)
        assert len(storage.collect_pools(counting)) == pools
        assert counting.rpcs == 3 + 2 * pools, counting.counter
        assert counting.counter["listAllVolumes"] == 0
    finally:
        conn.close()


def test_it_skips_a_pool_removed_between_the_listing_and_its_reads():
    conn = libvirt.open(node_uri("storage"))
    try:
        def remove_nfs_share():
            gone = conn.storagePoolLookupByName("nfs-share")
            gone.destroy()
            gone.undefine()

        counting = Counting(conn, after={"listAllStoragePools": remove_nfs_share})
        assert [r.name for r in storage.collect_pools(counting)] == ["images", "iso", "vg0"]
    finally:
        conn.close()


def test_it_collects_one_pool_or_none(host):
    assert host(lambda c: storage.collect_pool(c, "iso")).type == "dir"
    assert host(lambda c: storage.collect_pool(c, "no-such-pool")) is None


def test_it_lists_every_pool_type_when_the_driver_cannot_say(host):
    """The test driver lacks virConnectGetStoragePoolCapabilities (and accepts any pool type)."""
    caps = host(storage.pool_capabilities)
    assert caps.reported is False
    assert [t.type for t in caps.types] == list(POOL_TYPES)
    netfs = next(t for t in caps.types if t.type == "netfs")
    assert "nfs" in netfs.source_formats and netfs.volume_formats == ["raw", "qcow2"]


def test_it_defines_builds_starts_and_autostarts_a_pool(host):
    xml = build_pool("dir", "scratch", target_path="/srv/scratch")
    record = host(lambda c: storage.define_pool(c, xml, autostart=True))
    assert (record.name, record.type, record.state, record.autostart, record.persistent) == (
        "scratch", "dir", "running", True, True)
    assert record.target_path == "/srv/scratch"


def test_it_can_define_a_pool_without_starting_it(host):
    xml = build_pool("netfs", "nas", source_host="nas.example.org", source_dir="/export", target_path="/mnt/nas")
    record = host(lambda c: storage.define_pool(c, xml, build=False, start=False))
    assert record.state == "inactive" and not record.active


def test_it_leaves_nothing_defined_when_the_definition_is_refused(host):
    xml = build_pool("dir", "images", target_path="/srv/elsewhere")  # "images" exists with another path
    before = host(lambda c: storage.collect_pool(c, "images"))
    with pytest.raises(Exception, match="already exists"):
        host(lambda c: storage.define_pool(c, xml))
    assert host(lambda c: storage.collect_pool(c, "images")) == before


def test_it_stops_starts_refreshes_and_toggles_autostart(host):
    assert host(lambda c: storage.stop_pool(c, "iso")).state == "inactive"
    with pytest.raises(OperationInvalid, match="not active"):
        host(lambda c: storage.stop_pool(c, "iso"))
    assert host(lambda c: storage.start_pool(c, "iso")).state == "running"
    assert host(lambda c: storage.refresh_pool(c, "iso")).state == "running"
    assert host(lambda c: storage.set_pool_autostart(c, "iso", True)).autostart is True
    assert host(lambda c: storage.set_pool_autostart(c, "iso", False)).autostart is False
    with pytest.raises(NotFound):
        host(lambda c: storage.start_pool(c, "no-such-pool"))


def test_it_deletes_a_pool_stopping_it_first(host):
    host(lambda c: storage.delete_pool(c, "nfs-share", delete_storage=True))
    assert host(lambda c: storage.collect_pool(c, "nfs-share")) is None
    host(lambda c: storage.delete_pool(c, "iso"))
    assert [r.name for r in host(storage.collect_pools)] == ["images", "vg0"]


def test_it_refuses_to_delete_the_storage_of_a_pool_that_still_holds_volumes(host):
    with pytest.raises(InvalidConfig, match="Pool images still holds 4 volume"):
        host(lambda c: storage.delete_pool(c, "images", delete_storage=True))
    assert host(lambda c: storage.collect_pool(c, "images")).state == "running"


def test_it_refuses_to_delete_storage_of_a_type_that_has_none_to_delete(host):
    xml = build_pool("iscsi", "san", source_host="10.0.0.5", source_device="iqn.2013-06.com.example:lun1")
    host(lambda c: storage.define_pool(c, xml))
    with pytest.raises(InvalidConfig, match="cannot delete the storage of iscsi pools"):
        host(lambda c: storage.delete_pool(c, "san", delete_storage=True))
    assert host(lambda c: storage.collect_pool(c, "san")).state == "running"  # refused before anything changed
    host(lambda c: storage.delete_pool(c, "san"))
    assert host(lambda c: storage.collect_pool(c, "san")) is None


def test_it_takes_only_pool_xml_objects(host):
    with pytest.raises(TypeError):
        host(lambda c: storage.define_pool(c, "<pool type='dir'/>"))
