"""Thin and thick volumes as the host sees them, for docs/concepts.md: what libvirt reports for each allocation
policy virtdeck offers, beside `du` (bytes on disk vs apparent size) and `qemu-img info`.

Run: `.venv/bin/python bench/thin_thick.py` with the lab up (lab/up; LAB_DIR=... when it was started from another
checkout). A dir pool of its own under var/bench-thin-thick/ on qemu+tcp://127.0.0.1:16509/system, one 1 GiB
volume per (format, allocation) made by virt.volumes.create_volume (what the volume create form and
`POST /api/storage/pools/{id}/volumes/` call), all removed at the end with the pool.
"""
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench-thin-thick"
URI = "qemu+tcp://127.0.0.1:16509/system"
GIB, MIB = 2**30, 2**20
POLICIES = (("raw", "thin"), ("raw", "thick"), ("qcow2", "thin"), ("qcow2", "metadata"), ("qcow2", "thick"))

sys.path.insert(0, str(ROOT))


def du_kib(path, apparent=False):
    argv = ["du", "-k", *(["--apparent-size"] if apparent else []), path]
    return int(subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()[0])


def qemu_img(path):
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", path], capture_output=True, text=True,
                                     check=True).stdout)
    return info["virtual-size"], info["actual-size"]


def main():
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        raise SystemExit("the lab is down: run lab/up first")
    import libvirt

    libvirt.registerErrorHandler(lambda *args: None, None)

    from virt.storage import define_pool
    from virt.tests.test_lab_storage import remove_pool
    from virt.volumes import create_volume
    from virt.xml.storage import build_pool

    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True)
    conn = libvirt.open(URI)
    pool_name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    rows = []
    try:
        define_pool(conn, build_pool("dir", pool_name, target_path=str(BENCH_DIR)))
        for volume_format, allocation in POLICIES:
            record = create_volume(conn, pool_name, f"{volume_format}-{allocation}.img", GIB,
                                   volume_format=volume_format, allocation=allocation)
            virtual, actual = qemu_img(record.path)
            rows.append((volume_format, allocation, record.capacity, record.allocation,
                         du_kib(record.path, apparent=True), du_kib(record.path), virtual, actual))
    finally:
        remove_pool(conn, pool_name)
        conn.close()
        shutil.rmtree(BENCH_DIR, ignore_errors=True)
    print("| format | allocation | libvirt capacity | libvirt allocation | du --apparent-size | du | "
          "qemu-img virtual size | qemu-img disk size |")
    print("|---|---|---|---|---|---|---|---|")
    for volume_format, allocation, capacity, allocated, apparent, used, virtual, actual in rows:
        print(f"| {volume_format} | {allocation} | {capacity / GIB:.0f} GiB | {allocated / MIB:.2f} MiB | "
              f"{apparent / 1024:.2f} MiB | {used / 1024:.2f} MiB | {virtual / GIB:.0f} GiB | {actual / MIB:.2f} MiB |")


if __name__ == "__main__":
    main()
