"""Metrics benchmark: sampler cost per host against its VM count, the write rate, the store's size after a
simulated week at 20 hosts x 250 VMs, and the graph API's time for a week of one VM.

Run: `.venv/bin/python bench/metrics.py` (about a minute). Figures and method: bench/README.md.

1. Sampler per host at 50, 250 and 1,000 running VMs: each a libvirt test-driver node served by the lab
   libvirtd over real RPC (test+tcp://127.0.0.1:16509/<abs path>.xml). Counted: the calls
   virt.metrics.sample makes (a counting proxy: every non-local method call is one RPC); timed (p50 of 7):
   the bare sample, and the whole sampler (metrics.sampler.sample_host: sample, rates, one frame written).
   The test driver's stats carry the state only, so its frames hold VMs with unknown values: the frame's
   size is the same (28 bytes a VM), the rate arithmetic is skipped.
2. Write rate: rows and bytes a second for a fleet, from the measured frame size.
3. Store size: 20 hosts x 250 VMs, the frames a week of sampling leaves after retention (raw for an hour,
   5 min for a day, 30 min for a week, 3 h so far), written directly; SQLite's file size after VACUUM,
   less the size before.
4. /api/metrics/instances/<id>/?range=week and ?range=hour for one VM in that store: Django's test Client,
   in process, logged in; p50/p95 of 30 after a warm-up.

Works in var/bench/metrics/ only (test-driver nodes must live under var/bench): its own SQLite database,
node files, Redis socket. The lab must be up (lab/up); this script never starts or stops it.
"""
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench" / "metrics"))
LAB_PORT = int(os.environ.get("LAB_TCP_PORT", "16509"))
SIZES = (50, 250, 1000)
FLEET_HOSTS, FLEET_VMS = 20, 250
GOAL_STORE_MB, GOAL_API_MS = 200, 50
sys.path.insert(0, str(ROOT))


def log(message):
    print(message, flush=True)


def p50(values):
    return statistics.median(values)


def setup_django():
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR, keep_files=True, allow_test_driver=True)


def sampler_cost():
    import libvirt

    from core.testing import fleet_node_xml
    from hosts.models import Host
    from hosts.services import create_host
    from metrics import sampler
    from virt import metrics as virt_metrics
    from virt.tests.counting import Counting

    libvirt.registerErrorHandler(lambda *_: None, None)  # the test driver has no getMemoryStats: quiet
    rows = []
    for vms in SIZES:
        path = BENCH_DIR / "nodes" / f"n{vms}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fleet_node_xml(vms, running_every=1, prefix=f"n{vms}-vm"))
        uri = f"test+tcp://127.0.0.1:{LAB_PORT}{path}"
        conn = libvirt.open(uri)
        counting = Counting(conn)
        assert len(virt_metrics.sample(counting)["vms"]) == vms
        bare = []
        for _ in range(7):
            started = time.perf_counter()
            virt_metrics.sample(conn)
            bare.append((time.perf_counter() - started) * 1000)
        conn.close()
        host = create_host(Host(name=f"n{vms}", uri=uri))
        whole = []
        for _ in range(7):
            time.sleep(1.01)  # one frame a second at most
            started = time.perf_counter()
            assert sampler.sample_host(host) == vms
            whole.append((time.perf_counter() - started) * 1000)
        rows.append((vms, counting.rpcs, sorted(counting.counter), p50(bare), p50(whole)))
        log(f"  {vms:>5} VMs: {counting.rpcs} RPCs ({', '.join(sorted(counting.counter))}); "
            f"sample p50 {p50(bare):.1f} ms; whole sampler p50 {p50(whole):.1f} ms")
    return rows


def simulated_week():
    """Frames of FLEET_HOSTS x FLEET_VMS as a week of sampling leaves them; returns (MB, one instance id)."""
    from django.db import connection

    from hosts.models import Host
    from instances.models import Instance
    from metrics import frames, store
    from metrics.models import Frame

    now = int(time.time())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
    before = (BENCH_DIR / "virtdeck.sqlite3").stat().st_size
    counts = {store.RAW: store.RAW_KEEP // 10, 300: 86400 // 300, 1800: 7 * 86400 // 1800, 10800: 7 * 86400 // 10800}
    random.seed(12)
    some_instance = None
    for h in range(FLEET_HOSTS):
        host = Host.objects.create(name=f"week{h:02d}", uri=f"test:///week{h}")
        instances = Instance.objects.bulk_create(
            Instance(host=host, uuid=f"{h:08d}-0000-4000-8000-{i:012d}", name=f"w{h:02d}-{i:04d}", state="running")
            for i in range(FLEET_VMS))
        some_instance = some_instance or instances[0]
        ids = [i.pk for i in instances] if instances[0].pk else list(
            Instance.objects.filter(host=host).values_list("pk", flat=True))
        batch = []
        for step, count in counts.items():
            spacing = step or 10
            for n in range(count):
                points = {pk: {"cpu_percent": random.uniform(0, 100), "memory_kib": random.uniform(2e5, 4e6),
                               "disk_read_bps": random.uniform(0, 1e7), "disk_write_bps": random.uniform(0, 1e7),
                               "net_rx_bps": random.uniform(0, 1e6), "net_tx_bps": random.uniform(0, 1e6)}
                          for pk in ids}
                batch.append(Frame(host=host, step=step, ts=(now - n * spacing) // spacing * spacing,
                                   cpu_percent=50.0, memory_used_kib=10**7, memory_total_kib=2 * 10**7,
                                   vms=frames.encode(points)))
        Frame.objects.bulk_create(batch, batch_size=200)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
    after = (BENCH_DIR / "virtdeck.sqlite3").stat().st_size
    instance_id = Instance.objects.filter(host__name="week00").order_by("pk").values_list("pk", flat=True)[0]
    return (after - before) / 1e6, sum(counts.values()) * FLEET_HOSTS, instance_id


def api_times(instance_id):
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench", password="bench-password-1")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    results = {}
    for range_name in ("week", "hour"):
        url = f"/api/metrics/instances/{instance_id}/?range={range_name}"
        for _ in range(3):
            assert client.get(url).status_code == 200
        times, points = [], 0
        for _ in range(30):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            points = len(response.json()["points"])
        times.sort()
        results[range_name] = (p50(times), times[int(0.95 * len(times)) - 1], points)
        log(f"  ?range={range_name}: {points} points, p50 {results[range_name][0]:.1f} ms, "
            f"p95 {results[range_name][1]:.1f} ms (goal p50 < {GOAL_API_MS} ms)")
    return results


def main():
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        sys.exit("the lab is down: start it with lab/up (this benchmark never does)")
    setup_django()
    from django.conf import settings

    from virtdeck import daemons

    _, redis_started = daemons.start_redis(settings.RUN_DIR)
    try:
        log("[1/4] sampler cost per host (test driver over real RPC)")
        cost = sampler_cost()
        from metrics.frames import RECORD
        log("[2/4] write rate")
        interval = 10
        for hosts, vms in ((20, 5_000), (200, 50_000)):
            per_host = vms // hosts
            log(f"  {hosts} hosts x {per_host} VMs every {interval} s: {hosts / interval:.0f} rows/s, "
                f"{hosts * per_host * RECORD.size / interval / 1e6:.2f} MB/s of frames "
                f"(one row per VM would be {vms / interval:,.0f} rows/s)")
        log(f"[3/4] store after a simulated week, {FLEET_HOSTS} hosts x {FLEET_VMS} VMs")
        size_mb, frame_count, instance_id = simulated_week()
        log(f"  {frame_count} frames, {size_mb:.1f} MB (goal < {GOAL_STORE_MB} MB)")
        log("[4/4] graph API for one VM")
        api = api_times(instance_id)
    finally:
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
    log("\nsummary")
    for vms, rpcs, _, bare, whole in cost:
        log(f"  sampler {vms:>5} VMs: {rpcs} RPCs, sample {bare:.1f} ms, whole {whole:.1f} ms")
    log(f"  store after a week (20 x 250): {size_mb:.1f} MB: {'met' if size_mb < GOAL_STORE_MB else 'NOT met'}")
    log(f"  graph API week p50: {api['week'][0]:.1f} ms: {'met' if api['week'][0] < GOAL_API_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
