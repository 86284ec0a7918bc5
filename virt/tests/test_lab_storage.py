"""virt storage against the real lab libvirtd: dir pools and raw/qcow2 volumes on disk.

Every result is checked outside virtdeck: `qemu-img info`/`compare`, os.stat
(st_blocks is what the file really uses), file contents, or a plain libvirt
connection. Pools are named vd-test-<random> in the test's tmp_path and removed
at the end whatever happens (the lab is shared).
"""
import hashlib
import io
import json
import os
import subprocess
import threading
import uuid

import libvirt
import pytest

from virt import storage, streams, volumes
from virt.connection import ConnectionSpec, Pool
from virt.errors import InvalidConfig, VirtError
from virt.xml.storage import build_pool

pytestmark = pytest.mark.lab

MIB = 2**20


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def on_disk(path):
    """Bytes the file really occupies (sparse files use less than their size)."""
    return os.stat(path).st_blocks * 512


def remove_pool(conn, name):
    try:
        pool = conn.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return
    try:
        if not pool.isActive():
            pool.create(0)
        for volume in pool.listAllVolumes(0):
            volume.delete(0)
    except libvirt.libvirtError:
        pass  # its directory may be gone already: undefine it anyway
    if pool.isActive():
        pool.destroy()
    if pool.isPersistent():
        pool.undefine()


class Lab:
    """`call(fn)` runs fn(conn) through a virtdeck Pool as services do; `direct` is a plain connection."""

    def __init__(self, uri, tmp_path):
        libvirt.registerErrorHandler(lambda *a: None, None)
        self.uri = uri
        self.tmp_path = tmp_path
        self.direct = libvirt.open(uri)
        self.pool = Pool(call_timeout=120.0)
        self.spec = ConnectionSpec(key="lab-storage", uri=uri)
        self.pools = []

    def call(self, fn):
        return self.pool.call(self.spec, fn)

    def new_pool_name(self):
        name = f"vd-test-{uuid.uuid4().hex[:8]}"
        self.pools.append(name)
        return name

    def dir_pool(self, **options):
        """A started dir pool in a directory that build() creates: (name, path)."""
        name = self.new_pool_name()
        path = self.tmp_path / name
        self.call(lambda c: storage.define_pool(c, build_pool("dir", name, target_path=str(path)), **options))
        return name, path

    def close(self):
        for name in self.pools:
            remove_pool(self.direct, name)
        self.pool.close_all()
        self.direct.close()


@pytest.fixture
def lab_storage(lab, tmp_path):
    env = Lab(lab["uri"], tmp_path)
    yield env
    env.close()


def test_it_runs_a_dir_pool_through_its_life(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool(autostart=True)
    direct = lab.direct.storagePoolLookupByName(name)
    assert path.is_dir() and direct.isActive() and direct.autostart()
    record = next(r for r in lab.call(storage.collect_pools) if r.name == name)
    assert (record.type, record.state, record.target_path, record.autostart) == ("dir", "running", str(path), True)
    assert record.capacity == os.statvfs(path).f_blocks * os.statvfs(path).f_frsize

    assert lab.call(lambda c: storage.stop_pool(c, name)).state == "inactive"
    assert not direct.isActive()
    assert lab.call(lambda c: storage.start_pool(c, name)).state == "running"
    (path / "copied-in.raw").write_bytes(b"\0" * 4096)  # appears after a refresh only
    lab.call(lambda c: storage.refresh_pool(c, name))
    assert [v.name for v in lab.call(lambda c: volumes.collect_volumes(c, name))] == ["copied-in.raw"]
    lab.call(lambda c: volumes.delete_volume(c, name, "copied-in.raw"))
    assert not (path / "copied-in.raw").exists()
    assert lab.call(lambda c: storage.set_pool_autostart(c, name, False)).autostart is False

    lab.call(lambda c: storage.delete_pool(c, name, delete_storage=True))
    assert not path.exists()
    with pytest.raises(libvirt.libvirtError, match="no storage pool with matching name"):
        lab.direct.storagePoolLookupByName(name)


def test_it_reads_which_pool_types_the_host_supports(lab_storage):
    caps = lab_storage.call(storage.pool_capabilities)
    raw = lab_storage.direct.getStoragePoolCapabilities(0)
    assert caps.reported is True
    types = {t.type: t for t in caps.types}
    assert {"dir", "fs", "netfs", "logical"} <= set(types)
    for pool_type in types:
        assert f"<pool type='{pool_type}' supported='yes'>" in raw
    assert "qcow2" in types["dir"].volume_formats and "nfs" in types["netfs"].source_formats


def test_it_creates_volumes_whose_disk_use_matches_their_policy(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    made = {}
    for volume_name, volume_format, allocation in [
        ("thin.raw", "raw", "thin"), ("thick.raw", "raw", "thick"), ("thin.qcow2", "qcow2", "thin"),
        ("meta.qcow2", "qcow2", "metadata"), ("thick.qcow2", "qcow2", "thick"),
    ]:
        made[volume_name] = lab.call(lambda c, n=volume_name, f=volume_format, a=allocation: volumes.create_volume(
            c, name, n, 64 * MIB, volume_format=f, allocation=a))
    assert on_disk(path / "thin.raw") == 0 and os.path.getsize(path / "thin.raw") == 64 * MIB
    assert on_disk(path / "thick.raw") >= 64 * MIB
    assert on_disk(path / "thin.qcow2") < MIB
    assert on_disk(path / "thin.qcow2") < on_disk(path / "meta.qcow2") < 2 * MIB
    assert on_disk(path / "thick.qcow2") >= 64 * MIB
    for volume_name in ("thin.qcow2", "meta.qcow2", "thick.qcow2"):
        info = qemu_img_info(path / volume_name)
        assert (info["format"], info["virtual-size"]) == ("qcow2", 64 * MIB)
        assert info["format-specific"]["data"]["compat"] == "1.1"
    assert qemu_img_info(path / "thin.raw")["format"] == "raw"
    assert made["thin.raw"].allocation == 0 and made["thick.raw"].allocation >= 64 * MIB
    assert made["thin.qcow2"].compat == "1.1" and made["thick.qcow2"].path == str(path / "thick.qcow2")

    with pytest.raises(InvalidConfig, match="Metadata preallocation is for qcow2"):
        lab.call(lambda c: volumes.create_volume(c, name, "m.raw", MIB, allocation="metadata"))
    for bad in ("../escape.raw", "..", "sub/dir.raw", "-o.raw"):
        with pytest.raises(InvalidConfig, match="Invalid volume name"):
            lab.call(lambda c, b=bad: volumes.create_volume(c, name, b, MIB))
    for size in (-1, 0, 2**60):
        with pytest.raises(InvalidConfig, match="capacity"):
            lab.call(lambda c, s=size: volumes.create_volume(c, name, "x.raw", s))
    with pytest.raises(InvalidConfig, match="Unknown volume format 'vdi'"):
        lab.call(lambda c: volumes.create_volume(c, name, "x.vdi", MIB, volume_format="vdi"))
    assert sorted(os.listdir(path)) == sorted(made)  # nothing else was created
    assert not (lab.tmp_path / "escape.raw").exists()


def test_it_resizes_keeping_thin_thin_and_thick_thick(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    for volume_name, volume_format, allocation in [("thin.raw", "raw", "thin"), ("thick.raw", "raw", "thick"),
                                                   ("disk.qcow2", "qcow2", "thin")]:
        lab.call(lambda c, n=volume_name, f=volume_format, a=allocation: volumes.create_volume(
            c, name, n, 32 * MIB, volume_format=f, allocation=a))
    for volume_name in ("thin.raw", "thick.raw", "disk.qcow2"):
        record = lab.call(lambda c, n=volume_name: volumes.resize_volume(c, name, n, 96 * MIB))
        assert record.capacity == 96 * MIB
    assert os.path.getsize(path / "thin.raw") == 96 * MIB and on_disk(path / "thin.raw") == 0
    assert on_disk(path / "thick.raw") >= 96 * MIB  # the new space preallocated too
    assert qemu_img_info(path / "disk.qcow2")["virtual-size"] == 96 * MIB

    with pytest.raises(InvalidConfig, match="shrink"):
        lab.call(lambda c: volumes.resize_volume(c, name, "thin.raw", 16 * MIB))
    assert os.path.getsize(path / "thin.raw") == 96 * MIB
    assert lab.call(lambda c: volumes.resize_volume(c, name, "thin.raw", 16 * MIB, shrink=True)).capacity == 16 * MIB
    assert os.path.getsize(path / "thin.raw") == 16 * MIB
    with pytest.raises(InvalidConfig, match="Only raw volumes"):
        lab.call(lambda c: volumes.resize_volume(c, name, "disk.qcow2", 128 * MIB, allocate=True))


def test_it_uploads_and_downloads_through_streams_byte_for_byte(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "disk.raw", 24 * MIB))
    data = os.urandom(5 * MIB) + bytes(8 * MIB) + os.urandom(3 * MIB + 12345)
    chunks = (data[i:i + 100_000] for i in range(0, len(data), 100_000))  # sizes unlike libvirt's
    sent = lab.call(lambda c: streams.upload_volume(c, name, "disk.raw", chunks, length=len(data)))
    assert sent == len(data)
    assert (path / "disk.raw").read_bytes()[:len(data)] == data

    for sparse in (False, True):
        sink = io.BytesIO()
        got = lab.call(lambda c, s=sparse: streams.download_volume(c, name, "disk.raw", sink, sparse=s))
        assert got == 24 * MIB
        assert hashlib.sha256(sink.getvalue()).digest() == hashlib.sha256(data + bytes(24 * MIB - len(data))).digest()
    part = io.BytesIO()
    lab.call(lambda c: streams.download_volume(c, name, "disk.raw", part, offset=5 * MIB - 10, length=20))
    assert part.getvalue() == data[5 * MIB - 10:5 * MIB + 10]
    # A known length: each next window opens before the current one drains (three windows here, the last short),
    # and a length past the end stops at the end (the window opened ahead of it is dropped).
    whole = data + bytes(24 * MIB - len(data))
    for offset, length in ((MIB + 7, 20 * MIB), (0, 30 * MIB)):
        for sparse in (False, True):
            part = io.BytesIO()
            got = lab.call(lambda c, o=offset, n=length, s=sparse: streams.download_volume(
                c, name, "disk.raw", part, offset=o, length=n, sparse=s))
            assert got == min(length, 24 * MIB - offset)
            assert part.getvalue() == whole[offset:offset + length]


def _memory_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def test_it_streams_hundreds_of_mebibytes_in_bounded_memory(lab_storage):
    """320 MiB up and down, generated and hashed on the fly: the process's peak memory barely moves."""
    lab = lab_storage
    name, path = lab.dir_pool()
    size = 320 * MIB
    lab.call(lambda c: volumes.create_volume(c, name, "big.raw", size))
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()

    def generate():
        seed = hashlib.sha256(b"virtdeck").digest()
        block = seed * (MIB // len(seed))
        for i in range(size // MIB):
            chunk = bytes([i % 251]) + block[1:]
            sent_hash.update(chunk)
            yield chunk

    class HashingSink:
        def write(self, data):
            got_hash.update(data)
            return len(data)

    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak (VmHWM) to the current resident size
    before = _memory_kib("VmRSS")
    lab.call(lambda c: streams.upload_volume(c, name, "big.raw", generate(), length=size))
    upload_mib = (_memory_kib("VmHWM") - before) / 1024
    # With its length, as the web download asks: two windows in flight at a time.
    lab.call(lambda c: streams.download_volume(c, name, "big.raw", HashingSink(), length=size))
    growth_mib = (_memory_kib("VmHWM") - before) / 1024
    print(f"peak memory growth over 2 x 320 MiB: {growth_mib:.1f} MiB (upload alone {upload_mib:.1f} MiB)")
    assert got_hash.digest() == sent_hash.digest()
    assert os.path.getsize(path / "big.raw") == size
    assert growth_mib < 32


def test_it_keeps_a_thin_volume_thin_with_a_sparse_upload(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "sparse.raw", 64 * MIB))
    data = os.urandom(MIB) + bytes(60 * MIB) + os.urandom(MIB)
    lab.call(lambda c: streams.upload_volume(c, name, "sparse.raw", [data], length=len(data), sparse=True))
    assert (path / "sparse.raw").read_bytes()[:len(data)] == data
    assert on_disk(path / "sparse.raw") < 4 * MIB  # the 60 MiB of zeros went as a hole


def test_it_refuses_an_upload_larger_than_the_volume(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "small.raw", MIB))
    with pytest.raises(InvalidConfig, match="do not fit; resize it first"):
        lab.call(lambda c: streams.upload_volume(c, name, "small.raw", [b"x" * (2 * MIB)], length=2 * MIB))
    assert (path / "small.raw").read_bytes() == bytes(MIB)  # refused before a byte was written
    with pytest.raises(InvalidConfig, match="larger than small.raw"):
        lab.call(lambda c: streams.upload_volume(c, name, "small.raw", iter([b"y" * MIB, b"y"])))
    assert os.path.getsize(path / "small.raw") == MIB  # not extended past its end
    with pytest.raises(InvalidConfig, match="ended after 10 of the 20 bytes"):
        lab.call(lambda c: streams.upload_volume(c, name, "small.raw", [b"z" * 10], length=20))


def test_it_aborts_a_transfer_when_the_callers_side_fails(lab_storage):
    lab = lab_storage
    name, _path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "disk.raw", 4 * MIB))

    def client_goes_away():
        yield b"a" * MIB
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        lab.call(lambda c: streams.upload_volume(c, name, "disk.raw", client_goes_away()))

    class BrokenSink:
        def write(self, data):
            raise BrokenPipeError("reader went away")

    with pytest.raises(BrokenPipeError):
        lab.call(lambda c: streams.download_volume(c, name, "disk.raw", BrokenSink()))
    # With a known length, the next window is open already when the sink breaks: both streams are given up.
    lab.call(lambda c: volumes.create_volume(c, name, "big.raw", 3 * streams.WINDOW))
    with pytest.raises(BrokenPipeError):
        lab.call(lambda c: streams.download_volume(c, name, "big.raw", BrokenSink(), length=3 * streams.WINDOW))
    # The connection is still good for the next call.
    assert lab.call(lambda c: volumes.collect_volume(c, name, "disk.raw")).capacity == 4 * MIB


def test_it_converts_raw_to_qcow2_and_back_across_pools_identically(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    other, other_path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "source.raw", 256 * MIB))
    data = os.urandom(96 * MIB)
    lab.call(lambda c: streams.upload_volume(c, name, "source.raw", [data[i:i + MIB] for i in range(0, len(data), MIB)],
                                             offset=64 * MIB))
    before = hashlib.sha256((path / "source.raw").read_bytes()).hexdigest()

    # The copy on one connection, the progress monitor polling on another, as a job runs them.
    copier = libvirt.open(lab.uri)
    poller = libvirt.open(lab.uri)
    done, result, seen = threading.Event(), {}, []

    def copy():
        try:
            result["record"] = volumes.clone_volume(copier, name, "source.raw", "converted.qcow2",
                                                    target_pool=other, volume_format="qcow2")
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=copy)
    worker.start()
    seen.extend(volumes.progress(volumes.allocation_poller(poller, other, "converted.qcow2"), done,
                                 total=96 * MIB, interval=0.02))
    worker.join()
    copier.close()
    poller.close()
    assert "error" not in result, result.get("error")
    assert seen == sorted(seen) and all(0 <= p <= 99 for p in seen), seen
    print(f"progress samples during the conversion: {seen}")
    record = result["record"]
    assert (record.pool, record.format, record.capacity, record.compat) == (other, "qcow2", 256 * MIB, "1.1")
    info = qemu_img_info(other_path / "converted.qcow2")
    assert (info["format"], info["virtual-size"], info["format-specific"]["data"]["compat"]) == (
        "qcow2", 256 * MIB, "1.1")
    assert on_disk(other_path / "converted.qcow2") < 120 * MIB  # thin: the data, not the capacity

    back = lab.call(lambda c: volumes.clone_volume(c, other, "converted.qcow2", "back.raw", target_pool=name,
                                                   volume_format="raw"))
    assert back.format == "raw" and qemu_img_info(path / "back.raw")["format"] == "raw"
    compare = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "raw", str(path / "source.raw"),
                              str(path / "back.raw")], capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert hashlib.sha256((path / "source.raw").read_bytes()).hexdigest() == before  # the source untouched


def test_it_converts_between_thin_and_thick(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "thin.raw", 64 * MIB))
    for target, volume_format, allocation in [("thick.qcow2", "qcow2", "thick"), ("meta.qcow2", "qcow2", "metadata"),
                                              ("thick.raw", "raw", "thick")]:
        lab.call(lambda c, t=target, f=volume_format, a=allocation: volumes.clone_volume(
            c, name, "thin.raw", t, volume_format=f, allocation=a))
    lab.call(lambda c: volumes.clone_volume(c, name, "thick.raw", "thin-again.raw"))
    assert on_disk(path / "thick.qcow2") >= 64 * MIB and on_disk(path / "thick.raw") >= 64 * MIB
    assert on_disk(path / "meta.qcow2") < 2 * MIB and on_disk(path / "thin-again.raw") == 0
    assert qemu_img_info(path / "thick.qcow2")["format"] == "qcow2"


def test_it_wipes_a_volume(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "secret.raw", MIB, allocation="thick"))
    lab.call(lambda c: streams.upload_volume(c, name, "secret.raw", [b"\xa5" * MIB]))
    lab.call(lambda c: volumes.wipe_volume(c, name, "secret.raw"))
    assert (path / "secret.raw").read_bytes() == bytes(MIB)


def test_it_leaves_nothing_behind_when_a_pool_cannot_start_or_build(lab_storage):
    lab = lab_storage
    missing = lab.tmp_path / "no-such-dir" / "pool"
    name = lab.new_pool_name()
    with pytest.raises(VirtError, match="no-such-dir"):
        lab.call(lambda c: storage.define_pool(c, build_pool("dir", name, target_path=str(missing)), build=False))
    assert not missing.exists()
    with pytest.raises(libvirt.libvirtError, match="no storage pool"):
        lab.direct.storagePoolLookupByName(name)

    blocker = lab.tmp_path / "a-file"
    blocker.write_text("not a directory")
    name = lab.new_pool_name()
    with pytest.raises(VirtError):
        lab.call(lambda c: storage.define_pool(c, build_pool("dir", name, target_path=str(blocker / "pool"))))
    with pytest.raises(libvirt.libvirtError, match="no storage pool"):
        lab.direct.storagePoolLookupByName(name)
    assert blocker.read_text() == "not a directory"


def test_it_refuses_to_delete_a_pool_directory_that_still_holds_volumes(lab_storage):
    lab = lab_storage
    name, path = lab.dir_pool()
    lab.call(lambda c: volumes.create_volume(c, name, "keep.raw", MIB))
    with pytest.raises(InvalidConfig, match=f"Pool {name} still holds 1 volume"):
        lab.call(lambda c: storage.delete_pool(c, name, delete_storage=True))
    assert (path / "keep.raw").exists() and lab.direct.storagePoolLookupByName(name).isActive()  # nothing changed
    # Stopped, libvirt cannot count its volumes: its own message, the directory kept.
    lab.call(lambda c: storage.stop_pool(c, name))
    with pytest.raises(VirtError, match="Directory not empty"):
        lab.call(lambda c: storage.delete_pool(c, name, delete_storage=True))
    assert (path / "keep.raw").exists()
