"""Storage inventory cost on the lab libvirtd (not part of `make bench`; the lab must be up: lab/up).

For pools of 10 and 500 volumes, served over real RPC:
- RPCs of a steady sync (virt.storage.collect_pools, what hosts.sync runs every interval): counted with
  virt/tests/counting.py, the same proxy the tests use;
- the time of that sync and of re-reading one pool's volumes (virt.volumes.collect_volumes, what happens
  after an action, an event, a refresh or every STORAGE_VOLUMES_MAX_AGE), median of 5.
Two sources: libvirt's test driver through the daemon (test+tcp://, node files), and a real dir pool of
thin raw files in a temporary directory on qemu+tcp:// (removed at the end, with its pool).

    .venv/bin/python bench/storage.py
"""
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from virt import storage, volumes  # noqa: E402
from virt.tests.counting import Counting  # noqa: E402
from virt.tests.test_lab_storage import remove_pool  # noqa: E402
from virt.xml.storage import build_pool, build_volume  # noqa: E402

QEMU = "qemu+tcp://127.0.0.1:16509/system"
SIZES = (10, 500)


def median_ms(fn, rounds=5):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(conn, pool_name, count):
    counting = Counting(conn)
    storage.collect_pools(counting)
    reread = len(volumes.collect_volumes(conn, pool_name))
    assert reread == count, (reread, count)
    return (counting.rpcs, median_ms(lambda: storage.collect_pools(conn)),
            median_ms(lambda: volumes.collect_volumes(conn, pool_name)))


def test_driver_rows(directory):
    for count in SIZES:
        vols = "".join(f"<volume><name>v{i}.img</name><capacity>1048576</capacity></volume>" for i in range(count))
        path = Path(directory) / f"node-{count}.xml"
        path.write_text(f"<node><pool type='dir'><name>big</name><target><path>/srv/big</path></target>{vols}"
                        "</pool></node>")
        conn = libvirt.open(f"test+tcp://127.0.0.1:16509{path}")
        try:
            yield ("test+tcp", count, *measure(conn, "big", count))
        finally:
            conn.close()


def real_rows(directory):
    conn = libvirt.open(QEMU)
    name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    pool = conn.storagePoolDefineXML(build_pool("dir", name, target_path=directory).to_xml(), 0)
    try:
        pool.create(0)
        made = 0
        for count in SIZES:
            for i in range(made, count):
                pool.createXML(build_volume(f"v{i:04d}.raw", 2**20).to_xml(), 0)
            made = count
            yield ("qemu+tcp dir", count, *measure(conn, name, count))
    finally:
        remove_pool(conn, name)
        conn.close()


def main():
    libvirt.registerErrorHandler(lambda *a: None, None)
    print(f"{'source':<14}{'volumes':>8}{'RPCs/steady sync':>18}{'steady sync ms':>16}{'re-read pool ms':>17}")
    with tempfile.TemporaryDirectory(prefix="vd-bench-") as nodes, tempfile.TemporaryDirectory(prefix="vd-bench-") \
            as files:
        for source, count, rpcs, sync_ms, reread_ms in (*test_driver_rows(nodes), *real_rows(files)):
            print(f"{source:<14}{count:>8}{rpcs:>18}{sync_ms:>16.1f}{reread_ms:>17.1f}")


if __name__ == "__main__":
    main()
