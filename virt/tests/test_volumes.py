"""virt/volumes.py and virt/streams.py against libvirt's test driver, and the pure progress monitor.

The test driver has no resize, wipe, upload or download (libvirt's "not supported"
reaches the caller as Unsupported); those run for real in test_lab_storage.py.
"""
import io
import threading

import libvirt
import pytest

from core.testing import node_uri
from virt import streams, volumes
from virt.connection import ConnectionSpec, Pool
from virt.errors import InvalidConfig, NotFound, OperationFailed, OperationInvalid, Unsupported
from virt.tests.counting import Counting
from virt.xml.storage import MAX_VOLUME_BYTES

GIB = 2**30


@pytest.fixture
def host():
    pool = Pool(call_timeout=10.0)
    spec = ConnectionSpec(key="storage", uri=node_uri("storage"))
    yield lambda fn: pool.call(spec, fn)
    pool.close_all()


@pytest.fixture
def conn():
    libvirt.registerErrorHandler(lambda *a: None, None)
    c = libvirt.open(node_uri("storage"))
    yield c
    c.close()


def names(host, pool="images"):
    return [v.name for v in host(lambda c: volumes.collect_volumes(c, pool))]


def test_it_collects_volumes_with_format_sizes_and_backing_chain(host):
    records = {v.name: v for v in host(lambda c: volumes.collect_volumes(c, "images"))}
    assert sorted(records) == ["base.qcow2", "thick.raw", "thin.raw", "web1.qcow2"]
    web1 = records["web1.qcow2"]
    assert (web1.pool, web1.format, web1.capacity, web1.allocation, web1.compat) == (
        "images", "qcow2", 10 * GIB, 300 << 20, "1.1")
    assert (web1.backing_path, web1.backing_format) == ("/var/lib/virtdeck-test/images/base.qcow2", "qcow2")
    assert web1.path == web1.key == "/var/lib/virtdeck-test/images/web1.qcow2"
    assert (records["thin.raw"].allocation, records["thick.raw"].allocation) == (0, 2 * GIB)
    lv = host(lambda c: volumes.collect_volumes(c, "vg0"))[0]
    assert (lv.name, lv.type, lv.format, lv.path) == ("db-data", "block", "", "/dev/vg0/db-data")


@pytest.mark.parametrize("count", [0, 3, 40])
def test_it_reads_a_pools_volumes_with_two_plus_one_rpc_per_volume(conn, count):
    pool = conn.storagePoolLookupByName("iso")
    for i in range(count):
        pool.createXML(f"<volume><name>extra{i}.iso</name><capacity>1024</capacity></volume>", 0)
    counting = Counting(conn)
    assert len(volumes.collect_volumes(counting, "iso")) == count + 1
    assert counting.rpcs == 2 + (count + 1), counting.counter


def test_it_refuses_to_list_the_volumes_of_a_stopped_pool(host):
    host(lambda c: c.storagePoolLookupByName("iso").destroy())
    with pytest.raises(OperationInvalid, match="not active"):
        host(lambda c: volumes.collect_volumes(c, "iso"))


def test_it_collects_one_volume_or_none(host):
    assert host(lambda c: volumes.collect_volume(c, "images", "thin.raw")).capacity == 4 * GIB
    assert host(lambda c: volumes.collect_volume(c, "images", "nope.raw")) is None
    with pytest.raises(NotFound):
        host(lambda c: volumes.collect_volume(c, "no-such-pool", "thin.raw"))


@pytest.mark.parametrize(("volume_format", "allocation", "expected_allocation"), [
    ("raw", "thin", 0), ("raw", "thick", GIB), ("qcow2", "thin", 0),
])
def test_it_creates_thin_and_thick_volumes(host, volume_format, allocation, expected_allocation):
    record = host(lambda c: volumes.create_volume(c, "images", "new.img", GIB, volume_format=volume_format,
                                                  allocation=allocation))
    assert (record.name, record.format, record.capacity, record.allocation) == (
        "new.img", volume_format, GIB, expected_allocation)
    assert record.compat == ("1.1" if volume_format == "qcow2" else "")
    assert "new.img" in names(host)


def test_it_asks_libvirt_for_qcow2_preallocation_with_its_flag(host):
    """Thick qcow2 needs VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA: the test driver refuses any flag,
    which shows the flag is sent (the lab test checks what it does on disk)."""
    with pytest.raises(InvalidConfig, match="unsupported flags"):
        host(lambda c: volumes.create_volume(c, "images", "t.qcow2", GIB, volume_format="qcow2", allocation="thick"))


def test_it_creates_formatless_volumes_in_block_pools(host):
    record = host(lambda c: volumes.create_volume(c, "vg0", "lv1", GIB, allocation="thick"))
    assert (record.name, record.format) == ("lv1", "")  # no <format> for a logical volume
    with pytest.raises(InvalidConfig, match="A logical pool holds raw volumes, not qcow2"):
        host(lambda c: volumes.create_volume(c, "vg0", "lv2", GIB, volume_format="qcow2"))


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("../escape.img", GIB), {}, "cannot contain '/'"),
    (("..", GIB), {}, "cannot contain '..'"),
    (("a..b", GIB), {}, "cannot contain '..'"),
    (("-rf", GIB), {}, "cannot start with '-'"),
    (("bell\x07.img", GIB), {}, "Control characters"),
    (("neg.img", -GIB), {}, "at least 1 bytes"),
    (("zero.img", 0), {}, "at least 1 bytes"),
    (("huge.img", MAX_VOLUME_BYTES * 8), {}, "over virtdeck's limit"),
    (("str.img", "10G"), {}, "whole number of bytes"),
    (("x.vmdk", GIB), {"volume_format": "vmdk"}, "Unknown volume format 'vmdk'"),
    (("x.img", GIB), {"allocation": "sparse"}, "Unknown allocation 'sparse'"),
    (("x.img", GIB), {"volume_format": "raw", "allocation": "metadata"}, "Metadata preallocation is for qcow2"),
])
def test_it_refuses_bad_input_before_calling_libvirt(conn, args, kwargs, message):
    counting = Counting(conn)
    with pytest.raises(InvalidConfig, match=message):
        volumes.create_volume(counting, "images", *args, **kwargs)
    assert counting.rpcs == 0, counting.counter
    assert len(volumes.collect_volumes(conn, "images")) == 4  # nothing created


def test_it_reports_libvirts_message_for_what_only_libvirt_knows(host):
    with pytest.raises(OperationFailed, match="already exists"):
        host(lambda c: volumes.create_volume(c, "images", "thin.raw", GIB))
    with pytest.raises(NotFound, match="no-such-pool"):
        host(lambda c: volumes.create_volume(c, "no-such-pool", "x.img", GIB))


def test_it_refuses_volumes_in_pools_of_luns(host):
    host(lambda c: c.storagePoolCreateXML(
        "<pool type='iscsi'><name>san</name><source><host name='10.0.0.5'/>"
        "<device path='iqn.2013-06.com.example:lun1'/></source><target><path>/dev/disk/by-path</path></target></pool>",
        0))
    with pytest.raises(InvalidConfig, match="Volumes cannot be created in iscsi pools"):
        host(lambda c: volumes.create_volume(c, "san", "x.img", GIB))


def test_it_clones_and_converts(host):
    """Within a pool: the test driver looks the source up in the target pool (the lab clones across pools)."""
    record = host(lambda c: volumes.clone_volume(c, "images", "thin.raw", "thin-copy.qcow2", volume_format="qcow2"))
    assert (record.pool, record.format, record.capacity, record.compat) == ("images", "qcow2", 4 * GIB, "1.1")
    record = host(lambda c: volumes.clone_volume(c, "images", "base.qcow2", "base.raw", volume_format="raw",
                                                 allocation="thick"))
    assert (record.pool, record.format, record.capacity, record.allocation) == ("images", "raw", 10 * GIB, 10 * GIB)
    same = host(lambda c: volumes.clone_volume(c, "images", "web1.qcow2", "web2.qcow2"))
    assert same.format == "qcow2"  # the source's format by default
    with pytest.raises(InvalidConfig, match="The source is iso: choose raw or qcow2"):
        host(lambda c: volumes.clone_volume(c, "iso", "debian-12.iso", "copy.iso"))
    with pytest.raises(InvalidConfig, match="cannot contain '/'"):
        host(lambda c: volumes.clone_volume(c, "images", "thin.raw", "../x"))
    with pytest.raises(NotFound):
        host(lambda c: volumes.clone_volume(c, "images", "missing.raw", "x.raw"))


def test_it_deletes_a_volume(host):
    host(lambda c: volumes.delete_volume(c, "images", "thin.raw"))
    assert "thin.raw" not in names(host)
    with pytest.raises(NotFound):
        host(lambda c: volumes.delete_volume(c, "images", "thin.raw"))


def test_it_refuses_to_shrink_unless_asked_before_calling_libvirt(host):
    with pytest.raises(InvalidConfig, match="would shrink from 4294967296 to 1073741824 bytes"):
        host(lambda c: volumes.resize_volume(c, "images", "thin.raw", GIB))
    with pytest.raises(InvalidConfig, match="Only raw volumes can have new space preallocated"):
        host(lambda c: volumes.resize_volume(c, "images", "web1.qcow2", 20 * GIB, allocate=True))
    with pytest.raises(InvalidConfig, match="at least 1 bytes"):
        host(lambda c: volumes.resize_volume(c, "images", "thin.raw", -1))
    # Past the guards, the test driver has no resize: libvirt's own message.
    with pytest.raises(Unsupported, match="virStorageVolResize"):
        host(lambda c: volumes.resize_volume(c, "images", "thin.raw", 8 * GIB))
    assert host(lambda c: volumes.resize_volume(c, "images", "thin.raw", 4 * GIB)).capacity == 4 * GIB  # no-op


def test_it_checks_the_wipe_algorithm(host):
    with pytest.raises(InvalidConfig, match="Unknown wipe algorithm 'shred'"):
        host(lambda c: volumes.wipe_volume(c, "images", "thin.raw", "shred"))
    with pytest.raises(Unsupported, match="virStorageVolWipePattern"):
        host(lambda c: volumes.wipe_volume(c, "images", "thin.raw"))


def test_it_checks_transfers_before_opening_a_stream(host):
    with pytest.raises(InvalidConfig, match="thick.raw holds 2147483648 bytes"):
        host(lambda c: streams.upload_volume(c, "images", "thick.raw", [b"x"], length=2 * GIB + 1))
    with pytest.raises(InvalidConfig, match="do not fit"):
        host(lambda c: streams.upload_volume(c, "images", "thick.raw", [b"x"], offset=2 * GIB + 1))
    with pytest.raises(InvalidConfig, match="offset must be at least 0"):
        host(lambda c: streams.upload_volume(c, "images", "thick.raw", [b"x"], offset=-1))
    with pytest.raises(Unsupported, match="virStorageVolUpload"):
        host(lambda c: streams.upload_volume(c, "images", "thick.raw", [b"x"]))
    with pytest.raises(Unsupported, match="virStorageVolDownload"):
        host(lambda c: streams.download_volume(c, "images", "thick.raw", io.BytesIO()))


def test_it_polls_a_volumes_allocation_once_it_exists(conn):
    poll = volumes.allocation_poller(conn, "images", "growing.raw")
    assert poll() is None
    conn.storagePoolLookupByName("images").createXML(
        f"<volume><name>growing.raw</name><capacity>{GIB}</capacity><allocation>4096</allocation></volume>", 0)
    assert poll() == 4096


# --------------------------------------------------------------------------- the progress monitor (pure)

def scripted(values, done):
    """A poll() returning `values` in turn, then setting `done` (the long call returned)."""
    remaining = list(values)

    def poll():
        value = remaining.pop(0)
        if not remaining:
            done.set()
        return value

    return poll


def test_it_reports_progress_that_never_goes_back_and_stops_at_99():
    done = threading.Event()
    poll = scripted([None, 0, 10, 10, 5, 55, 99, 100, 250, 0], done)
    assert list(volumes.progress(poll, done, total=100, interval=0)) == [0, 10, 55, 99]


def test_it_stops_as_soon_as_the_call_is_done():
    done = threading.Event()
    done.set()
    assert list(volumes.progress(lambda: pytest.fail("polled after done"), done, total=100, interval=0)) == []


def test_it_reports_progress_of_an_empty_source():
    done = threading.Event()
    assert list(volumes.progress(scripted([0, 4096], done), done, total=0, interval=0)) == [0, 99]

