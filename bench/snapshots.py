"""Snapshot figures for docs/concepts.md: virtdeck's snapshot jobs on a lab guest, their times and the bytes they add.

Run: `.venv/bin/python bench/snapshots.py [ROUNDS]` with the lab up (lab/up; LAB_DIR=... when it was started from
another checkout; it is not started here).

A 256 MiB, 1 vCPU TCG guest (lab/guest.py) with a 64 MiB qcow2 disk, under var/bench-snapshots/, on the lab's
libvirtd (qemu+tcp://127.0.0.1:16509/system). ROUNDS times each, the jobs the page and the API start
(instances.lifecycle_jobs: snapshot create / revert / delete, in-process as a worker runs them):
- running VM: internal (disk + memory in the qcow2) create, revert, delete; external (disk-only overlay)
  create, delete (libvirt merges the overlay back);
- shut-off VM: internal create, revert, delete.
Sizes: the qcow2's bytes on disk (`du`) before and with the snapshot, the snapshot's memory state as
`qemu-img snapshot -l` lists it (VM SIZE), the external overlay's bytes on disk. The guest, its disk and the
database are removed at the end.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench-snapshots"))
URI = "qemu+tcp://127.0.0.1:16509/system"
KIB = 1024

sys.path.insert(0, str(ROOT))


def on_disk(path):
    """Bytes the file really takes (`du`), not its apparent size."""
    return os.stat(path).st_blocks * 512


def memory_state_bytes(image, snapshot):
    """The VM SIZE column of `qemu-img snapshot -l` for `snapshot` (the saved memory), in bytes."""
    listing = subprocess.run(["qemu-img", "info", "-U", "--output=json", image], capture_output=True, text=True,
                             check=True).stdout
    for entry in json.loads(listing).get("snapshots", []):
        if entry["name"] == snapshot:
            return entry["vm-state-size"]
    return None


def main(rounds):
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        raise SystemExit("the lab is down: run lab/up first")
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR)
    import libvirt
    from django.conf import settings

    from virtdeck import daemons

    _sock, redis_started = daemons.start_redis(settings.RUN_DIR)

    from hosts.models import Host
    from hosts.services import create_host
    from instances import inventory, lifecycle_jobs
    from lab import guest

    tasks = (lifecycle_jobs.snapshot_create_task, lifecycle_jobs.snapshot_revert_task,
             lifecycle_jobs.snapshot_delete_task)
    for task in tasks:
        task.apply_async = lambda *args, **kwargs: SimpleNamespace(id="in-process")
    libvirt.registerErrorHandler(lambda *args: None, None)
    host = create_host(Host(name="lab", uri=URI))
    name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    disks = BENCH_DIR / "disks"
    conn = libvirt.open(URI)
    image = guest.make_disk(disks, name)
    dom = conn.defineXML(guest.domain_xml(name, image))
    dom.create()
    time.sleep(2)  # SeaBIOS has reached its "No bootable device" loop: every round sees the same guest
    times, sizes = {}, {}

    def job(start, task, *args):
        instance = inventory.refresh_one(host, dom.UUIDString())
        row = start(instance, None, *args)
        began = time.perf_counter()
        status = task.run(row.pk, **row.params)
        elapsed = time.perf_counter() - began
        row.refresh_from_db()
        if status != "succeeded":
            raise SystemExit(f"{row.kind} failed: {row.error}")
        return elapsed

    def timed(label, start, task, *args):
        times.setdefault(label, []).append(job(start, task, *args))

    try:
        for index in range(rounds):
            for state in ("running", "shut off"):
                if state == "shut off" and dom.isActive():
                    dom.destroy()
                if state == "running" and not dom.isActive():
                    dom.create()
                    time.sleep(2)
                snap = f"int{index}"
                before = on_disk(image)
                timed(f"internal create ({state})", lifecycle_jobs.create_snapshot, lifecycle_jobs.snapshot_create_task,
                      snap, "internal")
                sizes.setdefault(f"qcow2 on disk grows by, internal ({state})", []).append(on_disk(image) - before)
                if state == "running":
                    sizes.setdefault("memory state in the qcow2 (VM SIZE)", []).append(memory_state_bytes(image, snap))
                timed(f"internal revert ({state})", lifecycle_jobs.revert_snapshot,
                      lifecycle_jobs.snapshot_revert_task, snap)
                timed(f"internal delete ({state})", lifecycle_jobs.delete_snapshot,
                      lifecycle_jobs.snapshot_delete_task, snap)
                if state == "running":
                    snap = f"ext{index}"
                    timed("external create (running)", lifecycle_jobs.create_snapshot,
                          lifecycle_jobs.snapshot_create_task, snap, "external")
                    overlays = [path for path in disks.iterdir() if path.name != Path(image).name]
                    sizes.setdefault("external overlay on disk", []).append(sum(on_disk(p) for p in overlays))
                    timed("external delete, merge (running)", lifecycle_jobs.delete_snapshot,
                          lifecycle_jobs.snapshot_delete_task, snap)
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        conn.close()
        shutil.rmtree(disks, ignore_errors=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
    print(f"guest: 256 MiB, 1 vCPU, TCG, 64 MiB qcow2 disk; {rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    print("| virtdeck job | median (s) | all runs (s) |")
    print("|---|---|---|")
    for label, values in times.items():
        print(f"| {label} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print("| size | median (KiB) | all runs (KiB) |")
    print("|---|---|---|")
    for label, values in sizes.items():
        print(f"| {label} | {statistics.median(values) / KIB:.0f} | {', '.join(f'{v / KIB:.0f}' for v in values)} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
