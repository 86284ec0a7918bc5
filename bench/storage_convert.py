"""Convert benchmark: virtdeck's convert job vs bare `qemu-img convert`, same source file, same lab, one run.

Run: `.venv/bin/python bench/storage_convert.py [ROUNDS] [--mib N]` with the lab up (lab/up; it is not started
here). Figures and method: bench/README.md.

A raw volume of 1 GiB (or N MiB if more) holding N MiB of random data (default 256) in a dir pool of its own (a temporary directory
under var/bench-storage-convert/, removed at the end with its pool) is converted to qcow2 and back, ROUNDS times
each, three ways, in turns so the page cache favours none of them:
- bare: `qemu-img convert -f raw -O qcow2 SRC DST` (and -f qcow2 -O raw), wall time of the command;
- libvirt: `pool.createXMLFrom` with the new format, the call virtdeck makes, without virtdeck around it;
- virtdeck: the job (`storage.tasks.ConvertVolume.run`, in-process, as a worker runs it): the call under
  `run_long`, progress polled from the target's allocation, the rows written; its wall time.
The target is deleted after each run, and `sync` runs before each (no run pays for the previous one's
writeback). Goal (issue 7): the virtdeck job at most 1.10x bare qemu-img.

Its own database under var/bench-storage-convert/ (the dev database is never touched); jobs are not sent to a
broker (they run here).
"""
import argparse
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
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench-storage-convert"))
QEMU = "qemu+tcp://127.0.0.1:16509/system"
MIB = 2**20
CAPACITY = 1024 * MIB
GOAL_RATIO = 1.10

sys.path.insert(0, str(ROOT))


def setup_django():
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR)


def fill_random(path, mib):
    with open(path, "r+b") as handle:
        for _ in range(mib // 8):
            handle.write(os.urandom(8 * MIB))


def timed(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main(rounds, mib, in_memory):
    # LAB_DIR=/work/main/var/lab when the lab was started from another checkout.
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        raise SystemExit("the lab is down: run lab/up first")
    setup_django()
    import libvirt
    from django.conf import settings

    from virtdeck import daemons

    _sock, redis_started = daemons.start_redis(settings.RUN_DIR)  # job events are published as in production

    from hosts.models import Host
    from hosts.services import create_host
    from storage import services, tasks
    from storage.models import Volume
    from virt.tests.test_lab_storage import remove_pool
    from virt.xml.storage import build_volume

    libvirt.registerErrorHandler(lambda *args: None, None)
    tasks.convert_volume.apply_async = lambda *args, **kwargs: SimpleNamespace(id="in-process")
    host = create_host(Host(name="lab", uri=QEMU))
    # In memory (tmpfs): the conversion's own cost, without the disk's writeback, whose noise on a shared
    # virtual disk (single runs of one conversion from 0.2 s to 8 s) is larger than what is measured.
    directory = Path(f"/dev/shm/virtdeck-bench-convert-{uuid.uuid4().hex[:8]}") if in_memory else BENCH_DIR / "pool"
    directory.mkdir()
    pool_name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    pool = services.create_pool(host, "dir", pool_name, {"target_path": str(directory)})
    conn = libvirt.open(QEMU)
    capacity = max(CAPACITY, mib * MIB)
    figures = {(way, leg): [] for way in ("bare", "libvirt", "virtdeck") for leg in ("raw->qcow2", "qcow2->raw")}
    try:
        services.create_volume(pool, "source.raw", capacity, "raw", "thin")
        fill_random(directory / "source.raw", mib)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(directory / "source.raw"),
                        str(directory / "source.qcow2")], check=True)
        services.refresh_pool(pool)
        sources = {"raw->qcow2": ("source.raw", "raw", "qcow2"), "qcow2->raw": ("source.qcow2", "qcow2", "raw")}
        libvirt_pool = conn.storagePoolLookupByName(pool_name)

        def bare(leg):
            name, source_format, target_format = sources[leg]
            target = directory / f"bare.{target_format}"
            wall = timed(lambda: subprocess.run(["qemu-img", "convert", "-f", source_format, "-O", target_format,
                                                 str(directory / name), str(target)], check=True))
            target.unlink()
            return wall

        def plain_libvirt(leg):
            name, _source_format, target_format = sources[leg]
            xml = build_volume(f"libvirt.{target_format}", capacity, volume_format=target_format, allocation=0)
            source = libvirt_pool.storageVolLookupByName(name)
            made = []
            wall = timed(lambda: made.append(libvirt_pool.createXMLFrom(xml.to_xml(), source, 0)))
            made[0].delete(0)
            return wall

        def virtdeck(leg):
            name, _source_format, target_format = sources[leg]
            volume = Volume.objects.get(pool=pool, name=name)
            job = services.convert_volume(volume, target_format, "thin", name=f"virtdeck.{target_format}")
            began = time.perf_counter()
            status = tasks.convert_volume.run(job.pk, **job.params)
            wall = time.perf_counter() - began
            job.refresh_from_db()
            if status != "succeeded":
                raise SystemExit(f"virtdeck job failed: {job.error}")
            services.delete_volume(Volume.objects.get(pk=job.result["volume"]))
            return wall

        ways = {"bare": bare, "libvirt": plain_libvirt, "virtdeck": virtdeck}
        for round_index in range(rounds):
            order = list(ways) if round_index % 2 == 0 else list(reversed(ways))
            for leg in sources:
                for way in order:
                    os.sync()  # the previous run's dirty pages are written back before this one, not during it
                    figures[(way, leg)].append(ways[way](leg))
    finally:
        conn.close()
        conn = libvirt.open(QEMU)
        remove_pool(conn, pool_name)
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
    report(figures, rounds, mib, capacity, directory)


def report(figures, rounds, mib, capacity, directory):
    print(f"{capacity // MIB} MiB raw volume holding {mib} MiB of random data in {directory.parent}; {rounds} runs "
          f"per way and direction; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':14}{'bare qemu-img':>16}{'libvirt call':>16}{'virtdeck job':>16}{'job / bare':>12}")
    met = True
    for statistic, pick in (("median", statistics.median), ("best", min)):
        print(statistic)
        for leg in ("raw->qcow2", "qcow2->raw"):
            picked = {way: pick(figures[(way, leg)]) for way in ("bare", "libvirt", "virtdeck")}
            ratio = picked["virtdeck"] / picked["bare"]
            met = met and ratio <= GOAL_RATIO
            print(f"  {leg:12}{picked['bare']:>15.3f}s{picked['libvirt']:>15.3f}s{picked['virtdeck']:>15.3f}s"
                  f"{ratio:>11.2f}x")
    for (way, leg), values in figures.items():
        print(f"  {way:9}{leg:12}{[round(value, 3) for value in values]}")
    # The best run of each way is the one the machine's other work disturbed least: noise only adds time.
    print(f"goal: virtdeck job <= {GOAL_RATIO}x bare qemu-img convert, median and best run: "
          + ("met" if met else "NOT met"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--mib", type=int, default=256, help="MiB of random data in the source (1 GiB or more)")
    parser.add_argument("--in-memory", action="store_true", help="the pool in /dev/shm (tmpfs), not on the disk")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.mib, arguments.in_memory)
