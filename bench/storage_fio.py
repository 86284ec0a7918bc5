"""The storage benchmark job's figures on this machine, as docs/storage.md quotes them.

Run: `.venv/bin/python bench/storage_fio.py [--block-size 4k] [--size-mib 256] [--runtime 5] [--iodepth 16]` as
root with the lab up (lab/up; LAB_DIR=... when it was started from another checkout). It runs the same job the
page and `POST /api/storage/benchmarks/` start (storage.benchmark_tasks.StorageBenchmark, in-process), on
qemu:///system (the lab's libvirtd on this machine, where virtdeck has a shell), in a dir pool of its own under
var/bench-storage-fio/ (removed at the end with its pool), every kind and every workload, and prints the table.
Its own database under var/bench-storage-fio/; the dev database is never touched.
"""
import argparse
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench-storage-fio"))
MIB = 2**20
sys.path.insert(0, str(ROOT))


def setup_django():
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR)


def main(arguments):
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        raise SystemExit("the lab is down: run lab/up first")
    setup_django()
    import libvirt
    from django.conf import settings

    from virtdeck import daemons

    _sock, redis_started = daemons.start_redis(settings.RUN_DIR)

    from hosts.models import Host
    from hosts.services import create_host
    from storage import services
    from storage.benchmark import KINDS, WORKLOADS, BenchmarkSpec
    from storage.benchmark_services import start_benchmark
    from storage.benchmark_tasks import storage_benchmark
    from virt.tests.test_lab_storage import remove_pool

    storage_benchmark.apply_async = lambda *args, **kwargs: SimpleNamespace(id="in-process")
    host = create_host(Host(name="local", uri="qemu:///system"))
    directory = BENCH_DIR / "pool"
    directory.mkdir()
    pool_name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    try:
        pool = services.create_pool(host, "dir", pool_name, {"target_path": str(directory)})
        spec = BenchmarkSpec(kinds=tuple(KINDS), workloads=tuple(WORKLOADS), block_size=arguments.block_size,
                             iodepth=arguments.iodepth, size=arguments.size_mib * MIB, runtime=arguments.runtime)
        job = start_benchmark(pool, spec)
        storage_benchmark.run(job.pk, **job.params)
        job.refresh_from_db()
        if job.status != "succeeded":
            raise SystemExit(f"benchmark failed: {job.error}\n" + "\n".join(e["message"] for e in job.log))
    finally:
        conn = libvirt.open("qemu:///system")
        remove_pool(conn, pool_name)
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
    print(f"block size {spec.block_size}, I/O depth {spec.iodepth}, {spec.size // MIB} MiB per volume, "
          f"at most {spec.runtime} s per run, load average {os.getloadavg()[0]:.1f}")
    print("| kind | workload | IOPS | MiB/s | p50 µs | p99 µs | on disk after |")
    print("|---|---|---|---|---|---|---|")
    for row in job.result["results"]:
        print(f"| {row['kind']} | {row['workload']} | {row['iops']:.0f} | {row['bandwidth'] / MIB:.1f} | "
              f"{row['latency_us'].get('50')} | {row['latency_us'].get('99')} | {row['allocation_after'] // MIB} MiB |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block-size", default="4k")
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runtime", type=int, default=5)
    parser.add_argument("--iodepth", type=int, default=16)
    main(parser.parse_args())
