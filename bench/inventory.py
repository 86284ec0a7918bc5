"""Inventory benchmark: bulk vs per-VM sync over real RPC, RPC counts, the virtdeck path, list pages.

Run: `make bench` (or `.venv/bin/python bench/inventory.py`). Root is needed only if the
lab libvirtd has to be started (lab/up). Figures and method: bench/README.md.

1. 20 "hosts" x 250 VMs, each a libvirt test-driver node served by the lab libvirtd over
   real RPC (test+tcp://127.0.0.1:16509/<abs path>.xml): a full sync of all hosts
   (a) the bulk way, virt.inventory.collect() with the previous records as `known`
   (steady state: the test driver's stats carry only the state, so a first sync also
   calls info() once per new VM), and (b) the per-VM way of older consoles
   (listAllDomains, then lookupByUUIDString + info() + XMLDesc(0) per VM).
2. RPCs per host sync at 50 and 250 VMs, counted two ways: a counting proxy around the
   virConnect/virDomain objects (every non-local method call = one RPC), and on the wire
   from libvirt's own client log (RPC_CLIENT_MSG_TX_QUEUE probe, one line per call sent),
   in a child process started with LIBVIRT_LOG_FILTERS so timed runs carry no logging.
3. The whole virtdeck path: 20 hosts registered with hosts.services.create_host, 5,000
   Instance rows, hosts.sync.sync_host timed on an empty inventory and in steady state.
4. /api/instances/ and /instances/ (plus a filtered and a sorted variant) with 5,000 rows:
   Django's test Client in-process, logged in as a superuser, p50/p95 after a warm-up.

Everything lives under var/bench/ (its own SQLite database, node files, Redis socket): the
dev database is never touched. The lab is started only if it is down, and then stopped at
the end; a private Redis likewise.
"""
import argparse
import collections
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench"))
NODES_DIR = BENCH_DIR / "nodes"
LAB_PORT = int(os.environ.get("LAB_TCP_PORT", "16509"))
HOSTS = int(os.environ.get("BENCH_HOSTS", "20"))
VMS = int(os.environ.get("BENCH_VMS", "250"))
GOAL_RATIO = 20.0
GOAL_P50_MS = 150.0

sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- helpers

def log(msg):
    print(msg, flush=True)


def median(xs):
    return statistics.median(xs)


def request_ms(client, url, requests):
    """The time of each of `requests` GETs of `url` by Django's test `client`, in ms."""
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t) * 1000)
    return times


def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def node_uri(path):
    return f"test+tcp://127.0.0.1:{LAB_PORT}{path}"


def write_node(path, count, host_index):
    """A fleet node file; names and UUIDs made unique per host (h03-vm0123, 00000003-...)."""
    from core.testing import fleet_node_xml

    xml = fleet_node_xml(count, prefix=f"h{host_index:02d}-vm")
    xml = xml.replace("<uuid>00000000-0000-4000-8000-", f"<uuid>{host_index:08d}-0000-4000-8000-")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != xml:
        path.write_text(xml)
    return path


# --------------------------------------------------------------------------- lab

class Lab:
    """Uses the lab libvirtd; starts it only if it is down and then stops it at the end."""

    def __init__(self):
        self.started = False

    @staticmethod
    def _run(cmd):
        return subprocess.run([str(ROOT / "lab" / cmd)], capture_output=True, text=True)

    def up(self):
        return self._run("status").returncode == 0

    def ensure(self, attempts=12, wait=10):
        for attempt in range(attempts):
            if self.up():
                return
            log(f"  lab is down: lab/up (attempt {attempt + 1})")
            result = self._run("up")
            if result.returncode == 0:
                self.started = True
                return
            log(f"  lab/up failed: {(result.stderr or result.stdout).strip()[-300:]}; retrying in {wait} s")
            time.sleep(wait)
        raise SystemExit("lab libvirtd is not available (lab/up keeps failing)")

    def stop_if_started(self):
        if self.started:
            result = self._run("down")
            log(f"lab/down (the bench started the lab): {result.stdout.strip().splitlines()[-1:]}")


def with_lab(lab, what, fn, attempts=3):
    """Run fn(); if the lab went away meanwhile (another user restarted it), wait and redo it."""
    import libvirt

    from virt.errors import VirtError

    for attempt in range(attempts):
        try:
            return fn()
        except (libvirt.libvirtError, VirtError, ConnectionError) as exc:
            if attempt == attempts - 1:
                raise
            log(f"  {what}: {exc}; lab restarted? waiting for it and retrying")
            lab.ensure()
            if "django" in sys.modules and os.environ.get("VIRTDECK_STATE_DIR") == str(BENCH_DIR):
                from hosts.connection import pool

                pool().close_all()  # forget the dead connections and their backoff


# --------------------------------------------------------------------------- the two ways

def bulk_sync(conn, known):
    from virt.inventory import collect

    return collect(conn, known)


def naive_sync(conn):
    """What older consoles do: list, then look every VM up and ask for its info and XML."""
    records = []
    for listed in conn.listAllDomains(0):
        dom = conn.lookupByUUIDString(listed.UUIDString())
        state, max_mem, mem, vcpus, cpu_time = dom.info()
        xml = dom.XMLDesc(0)
        records.append({"uuid": dom.UUIDString(), "name": dom.name(), "state": state, "vcpus": vcpus,
                        "memory_kib": mem, "max_memory_kib": max_mem, "xml_bytes": len(xml)})
    return records


def known_from(records):
    return {r["uuid"].lower(): {k: r[k] for k in ("vcpus", "memory_kib", "max_memory_kib")} for r in records}


# --------------------------------------------------------------------------- RPC counting

def sync_host_libvirt_part(conn, known):
    """The libvirt calls of hosts.sync.sync_host (its `gather`), without Django."""
    from virt import host as virt_host
    from virt import inventory as virt_inventory

    conn.getLibVersion()
    return virt_inventory.collect(conn, known), virt_host.usage(conn)


def proxy_counts(uri):
    """{way: (rpcs, {method: n})} for one host sync, counted by the proxy (virt/tests/counting.py, the tests' own)."""
    import libvirt

    from virt.tests.counting import Counting

    conn = libvirt.open(uri)
    try:
        known = known_from(bulk_sync(conn, {}))
        result = {}
        for way, fn in (("bulk first", lambda c: bulk_sync(c, {})),
                        ("bulk", lambda c: bulk_sync(c, known)),
                        ("sync_host", lambda c: sync_host_libvirt_part(c, known)),
                        ("naive", naive_sync)):
            counting = Counting(conn)
            fn(counting)
            result[way] = (counting.rpcs, dict(counting.counter))
        return result
    finally:
        conn.close()


RPC_LINE = "RPC_CLIENT_MSG_TX_QUEUE"
REMOTE_PROGRAM = "prog=536903814"  # 0x20008086: the remote driver's calls (not keepalive)
# remote_procedure numbers (libvirt src/remote/remote_protocol.x) of the calls seen here.
PROC_NAMES = {14: "domainGetXMLDesc", 16: "domainGetInfo", 24: "domainLookupByUUID", 157: "connectGetLibVersion",
              227: "nodeGetCPUStats", 228: "nodeGetMemoryStats", 273: "connectListAllDomains",
              344: "connectGetAllDomainStats"}


def wire_counts_child(paths):
    """Child process (libvirt client logging on): RPCs sent per sync, from libvirt's own log."""
    import libvirt

    libvirt.registerErrorHandler(lambda *a: None, None)
    logfile = os.environ["BENCH_RPC_LOG"]

    def sent():
        """Remote-program calls (type=0; replies are type=1, keepalives another program) by procedure."""
        procs = collections.Counter()
        with open(logfile) as f:
            for line in f:
                if RPC_LINE in line and REMOTE_PROGRAM in line and " type=0 " in line:
                    proc = int(line.split(" proc=")[1].split()[0])
                    procs[PROC_NAMES.get(proc, f"proc {proc}")] += 1
        return procs

    out = {}
    for path in paths:
        conn = libvirt.open(node_uri(path))
        known = known_from(bulk_sync(conn, {}))
        counts = {}
        for way, fn in (("bulk first", lambda: bulk_sync(conn, {})),
                        ("bulk", lambda: bulk_sync(conn, known)),
                        ("sync_host", lambda: sync_host_libvirt_part(conn, known)),
                        ("naive", lambda: naive_sync(conn))):
            before = sent()
            fn()
            counts[way] = dict(sent() - before)
        conn.close()
        out[path] = counts
    print(json.dumps(out))


def wire_counts(paths):
    logfile = BENCH_DIR / "rpc-client.log"
    logfile.unlink(missing_ok=True)
    env = dict(os.environ, BENCH_RPC_LOG=str(logfile),
               LIBVIRT_LOG_FILTERS="2:rpc.netclient", LIBVIRT_LOG_OUTPUTS=f"2:file:{logfile}")
    result = subprocess.run([sys.executable, __file__, "--wire-count", *map(str, paths)],
                            capture_output=True, text=True, env=env, timeout=120)
    if result.returncode != 0:
        raise ConnectionError(f"wire count child failed: {result.stderr.strip()[-400:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- phases

def phase_rpc(lab, table):
    import libvirt

    log(f"\n[1/4] bulk vs per-VM sync: {HOSTS} hosts x {VMS} VMs over test+tcp (real RPC)")
    paths = [write_node(NODES_DIR / f"host{i:02d}.xml", VMS, i) for i in range(HOSTS)]

    def measure():
        conns = [libvirt.open(node_uri(p)) for p in paths]
        try:
            # First bulk sync: the test driver's stats carry only the state, so new VMs cost one info().
            t = time.perf_counter()
            firsts = [bulk_sync(c, {}) for c in conns]
            first_ms = (time.perf_counter() - t) * 1000
            knowns = [known_from(r) for r in firsts]
            # Same answers both ways (name, state, vcpus, memory).
            for c, known in zip(conns, knowns):
                bulk = {(r["uuid"], r["name"], r["state"], r["vcpus"], r["memory_kib"]) for r in bulk_sync(c, known)}
                from virt.inventory import state_name
                naive = {(r["uuid"], r["name"], state_name(r["state"]), r["vcpus"], r["memory_kib"])
                         for r in naive_sync(c)}
                assert bulk == naive and len(bulk) == VMS, "bulk and per-VM syncs disagree"
            # Interleaved (3 bulk, 1 per-VM, 5 rounds) so both ways see the same background load.
            bulk_runs, naive_runs = [], []
            for _ in range(5):
                for _ in range(3):
                    t = time.perf_counter()
                    for c, known in zip(conns, knowns):
                        bulk_sync(c, known)
                    bulk_runs.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                for c in conns:
                    naive_sync(c)
                naive_runs.append((time.perf_counter() - t) * 1000)
            return first_ms, bulk_runs, naive_runs
        finally:
            for c in conns:
                c.close()

    first_ms, bulk_runs, naive_runs = with_lab(lab, "sync timing", measure)
    b, n = median(bulk_runs), median(naive_runs)
    log(f"  bulk  steady: median {b:8.1f} ms  (runs {', '.join(f'{x:.0f}' for x in bulk_runs)})")
    log(f"  bulk  first : {first_ms:8.1f} ms  (one info() per VM never seen before)")
    log(f"  naive       : median {n:8.1f} ms  (runs {', '.join(f'{x:.0f}' for x in naive_runs)})")
    table.append(("Full sync, %d hosts x %d VMs (median ms)" % (HOSTS, VMS), f"{n:.0f}", f"{b:.1f}",
                  f"{n / b:.0f}x faster", "goal >= 20x: " + ("met" if n / b >= GOAL_RATIO else "NOT met")))
    table.append(("  per host (median ms)", f"{n / HOSTS:.1f}", f"{b / HOSTS:.2f}", "", ""))

    log("\n[2/4] RPCs per host sync")
    sizes = (50, VMS)
    rpc_paths = [write_node(NODES_DIR / f"rpc{size}.xml", size, 90 + k) for k, size in enumerate(sizes)]
    proxy = with_lab(lab, "proxy count", lambda: {p: proxy_counts(node_uri(p)) for p in rpc_paths})
    wire = with_lab(lab, "wire count", lambda: wire_counts(rpc_paths))
    totals = {}
    for size, path in zip(sizes, rpc_paths):
        for way in ("bulk", "sync_host", "bulk first", "naive"):
            n_proxy, detail = proxy[path][way]
            on_wire = wire[str(path)][way]
            totals[size, way] = n_wire = sum(on_wire.values())
            log(f"  {size:4d} VMs {way:10s}: proxy {n_proxy:4d} {detail}")
            log(f"  {'':19s} wire  {n_wire:4d} {on_wire}")
    for size in sizes:
        naive, bulk = totals[size, "naive"], totals[size, "bulk"]
        table.append((f"RPCs per host sync, {size} VMs (on the wire)", str(naive), str(bulk), f"{naive / bulk:.0f}x fewer",
                      f"sync_host {totals[size, 'sync_host']}; first sync {totals[size, 'bulk first']}"))
    same = totals[sizes[0], "bulk"] == totals[sizes[1], "bulk"]
    table.append(("  bulk RPCs equal at 50 and %d VMs" % VMS, "", "", "", "goal: " + ("met" if same else "NOT met")))


def setup_django():
    from bench.django_setup import fresh_database

    # Every benchmark host is a test-driver node; var/bench holds the node files and the other benches' directories.
    fresh_database(BENCH_DIR, keep_files=True, allow_test_driver=True)


def start_redis():
    """A private Redis for the bench's events; whether it was started (False: events will only log warnings)."""
    from django.conf import settings

    from virtdeck import daemons

    try:
        return daemons.start_redis(settings.RUN_DIR)[1]
    except daemons.ServiceError as exc:
        log(f"  no private Redis ({exc}): events will only log warnings")
        return False


def tear_down(lab, redis_started):
    """What a bench leaves behind: libvirt connections closed, its Redis and the lab stopped if it started them."""
    try:
        from hosts.connection import pool

        pool().close_all()
    except Exception:  # noqa: BLE001 - Django may not be set up
        pass
    if redis_started:
        from django.conf import settings

        from virtdeck import daemons

        daemons.stop_redis(settings.RUN_DIR)
    lab.stop_if_started()


def phase_virtdeck(lab, table):
    from hosts import services
    from hosts.connection import call, pool
    from hosts.models import Host
    from hosts.sync import sync_host
    from instances import inventory as instance_inventory
    from instances.models import Instance

    log(f"\n[3/4] virtdeck path: {HOSTS} hosts registered with create_host, hosts.sync.sync_host")
    paths = [NODES_DIR / f"host{i:02d}.xml" for i in range(HOSTS)]

    def register():
        Host.objects.all().delete()
        pool().close_all()
        t = time.perf_counter()
        hosts = [services.create_host(Host(name=f"bench-{i:02d}", uri=node_uri(p))) for i, p in enumerate(paths)]
        return hosts, (time.perf_counter() - t) * 1000

    hosts, create_ms = with_lab(lab, "create_host", register)
    assert Instance.objects.count() == HOSTS * VMS, Instance.objects.count()
    log(f"  create_host x {HOSTS} (facts + first sync, {HOSTS * VMS} rows): {create_ms:.0f} ms")

    def sync_all():
        t = time.perf_counter()
        counts = [sync_host(h) for h in hosts]
        if None in counts:
            raise ConnectionError(f"a host was unreachable: {Host.objects.exclude(last_error='').first().last_error}")
        return (time.perf_counter() - t) * 1000

    def first_sync():
        Instance.objects.all().delete()
        return sync_all()

    def rewritten(since):
        return Instance.objects.filter(updated_at__gt=since).count()

    first_ms = with_lab(lab, "first sync", first_sync)
    log(f"  sync_host x {HOSTS}, empty inventory ({HOSTS * VMS} inserts, 1 info() per VM): {first_ms:.0f} ms")
    mark = Instance.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    second_ms = with_lab(lab, "second sync", sync_all)
    log(f"  sync_host x {HOSTS}, second sync: {second_ms:.0f} ms ({rewritten(mark)} rows rewritten)")
    mark = Instance.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    steady = [with_lab(lab, "steady sync", sync_all) for _ in range(5)]
    assert Instance.objects.count() == HOSTS * VMS
    s = median(steady)
    log(f"  sync_host x {HOSTS}, steady: median {s:.0f} ms (runs {', '.join(f'{x:.0f}' for x in steady)}; "
        f"{rewritten(mark)} rows rewritten)")

    # Where a steady sync_host spends its time (the same app functions, called one by one).
    known_ms = collect_ms = apply_ms = 0.0
    from virt.inventory import collect
    for h in hosts:
        t0 = time.perf_counter()
        known = instance_inventory.current_rows(h)
        t1 = time.perf_counter()
        records = call(h, lambda conn, known=known: collect(conn, known))
        t2 = time.perf_counter()
        instance_inventory.apply_records(h, records, known)
        t3 = time.perf_counter()
        known_ms, collect_ms, apply_ms = known_ms + t1 - t0, collect_ms + t2 - t1, apply_ms + t3 - t2
    log(f"    of which current_rows {known_ms * 1000:.0f} ms, libvirt collect {collect_ms * 1000:.0f} ms, "
        f"apply_records {apply_ms * 1000:.0f} ms")

    # On QEMU every running VM's counters (cpu.time, block, net) move between two syncs, so a real
    # steady sync rewrites every running row; the test driver's constant stats hide that. Replay it:
    # the same records with the running VMs' counters advanced, written by Django's bulk_update (the
    # baseline: CASE WHEN per field and row) and by apply_records (one executemany of plain UPDATEs).
    fresh = [call(h, lambda conn, h=h: collect(conn, instance_inventory.current_rows(h))) for h in hosts]

    def replay(apply, step):
        batches = [moving(records, step) for records in fresh]
        t = time.perf_counter()
        changed = sum(apply(h, records) for h, records in zip(hosts, batches))
        return (time.perf_counter() - t) * 1000, changed, batches

    base_runs = [replay(apply_records_bulk_update, step) for step in (1, 2, 3)]
    app_runs = [replay(instance_inventory.apply_records, step) for step in (4, 5, 6)]
    # Both write the same rows: the baseline's last batch, replayed through the app, changes nothing visible,
    # and the app's own last batch is in the rows.
    for h, records in zip(hosts, app_runs[-1][2]):
        row = Instance.objects.get(host=h, uuid=records[0]["uuid"])
        assert row.cpu_time_ns == records[0]["cpu_time_ns"]
    moving_base, moving_app = median(r[0] for r in base_runs), median(r[0] for r in app_runs)
    log(f"  baseline bulk_update x {HOSTS}, running VMs' counters moving as on QEMU ({base_runs[0][1]} rows "
        f"changed): median {moving_base:.0f} ms (runs {', '.join(f'{r[0]:.0f}' for r in base_runs)})")
    log(f"  apply_records (executemany of plain UPDATEs), same rows: median {moving_app:.0f} ms "
        f"(runs {', '.join(f'{r[0]:.0f}' for r in app_runs)})")

    table.append((f"create_host x {HOSTS} (facts + first sync) ms", "", f"{create_ms:.0f}", "", ""))
    table.append((f"sync_host, all {HOSTS} hosts, first (empty DB) ms", "", f"{first_ms:.0f}", "",
                  f"{HOSTS * VMS} rows inserted"))
    table.append((f"sync_host, all {HOSTS} hosts, second sync ms", "", f"{second_ms:.0f}", "",
                  "values known from the first sync kept"))
    table.append((f"sync_host, all {HOSTS} hosts, steady (median ms)", "", f"{s:.0f}", "",
                  f"{s / HOSTS:.1f} ms/host; libvirt {collect_ms * 1000 / HOSTS:.1f}, DB "
                  f"{(known_ms + apply_ms) * 1000 / HOSTS:.1f}"))
    table.append((f"write changed rows, {HOSTS} hosts, counters moving (ms)", f"{moving_base:.0f}",
                  f"{moving_app:.0f}", f"{moving_base / moving_app:.0f}x",
                  f"{base_runs[0][1]} running rows; baseline: Django bulk_update"))
    return hosts


def moving(records, step):
    """Copies of the records with the running VMs' counters advanced, as QEMU reports them."""
    out = []
    for record in records:
        record = dict(record)
        if record["state"] == "running":
            record["cpu_time_ns"] = (record["cpu_time_ns"] or 0) + step * 5 * 10**9  # None on the test driver
            for key in ("disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes"):
                record[key] += step * 4096
        out.append(record)
    return out


def apply_records_bulk_update(host, records):
    """Baseline: the changed rows written with Django's bulk_update (CASE WHEN per field and row).

    Returns the number of rows written. The benchmark feeds it only known VMs.
    """
    import uuid as uuidlib

    from django.db import transaction
    from django.utils import timezone

    from instances.models import Instance

    fields = Instance.SYNCED_FIELDS
    with transaction.atomic():
        rows = {str(i.uuid): i for i in Instance.objects.filter(host=host)}
        changed = []
        for record in records:
            row = rows[str(uuidlib.UUID(record["uuid"]))]
            if any(getattr(row, f) != record[f] for f in fields if f in record):
                for f in fields:
                    if f in record:
                        setattr(row, f, record[f])
                row.updated_at = timezone.now()
                changed.append(row)
        Instance.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=500)
    return len(changed)


PAGES = ("/api/instances/", "/api/instances/?state=running&search=vm01", "/instances/",
         "/instances/?ordering=-memory")


def phase_pages(table, requests=50, warmup=5, profile=False):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from instances.models import Instance

    log(f"\n[4/4] list pages with {Instance.objects.count()} instances: test Client in-process, "
        f"{requests} requests after {warmup} warm-up")
    user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password-not-used")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    for url in PAGES:
        for _ in range(warmup):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        queries = []  # request_started resets connection.queries: count with a wrapper instead
        with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
            response = client.get(url)
        times = request_ms(client, url, requests)
        p50, p95 = pct(times, 50), pct(times, 95)
        extra = ""
        if url.startswith("/api/"):
            extra = f"count {response.json()['count']}, "
        log(f"  {url:45s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({extra}{len(queries)} queries, "
            f"{len(response.content) // 1024} KiB)")
        table.append((f"GET {url} p50 / p95 ms", "", f"{p50:.1f} / {p95:.1f}", "",
                      "goal p50 < 150: " + ("met" if p50 < GOAL_P50_MS else "NOT met")))
        if profile or p50 >= GOAL_P50_MS:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(10):
                client.get(url)
            prof.disable()
            log(f"  cProfile, 10 x {url}:")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


def print_table(table):
    head = ("", "per-VM baseline", "virtdeck", "ratio", "goal / note")
    widths = [max(len(str(row[i])) for row in (head, *table)) for i in range(5)]
    line = "  ".join("-" * w for w in widths)
    log("\n" + line)
    for k, row in enumerate((head, *table)):
        log("  ".join(str(c).ljust(w) if i in (0, 4) else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            log(line)
    log(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile every page, not only slow ones")
    parser.add_argument("--wire-count", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wire_count:
        return wire_counts_child(args.wire_count)

    started = time.perf_counter()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    import libvirt

    libvirt.registerErrorHandler(lambda *a: None, None)
    log(f"virtdeck inventory benchmark: {os.cpu_count()} CPUs, libvirt {libvirt.getVersion()}, "
        f"Python {sys.version.split()[0]}, state dir {BENCH_DIR}")
    lab = Lab()
    lab.ensure()
    log("lab: " + ("started by the bench (lab/down at the end)" if lab.started else "already up (left running)"))
    redis_started = False
    table = []
    try:
        phase_rpc(lab, table)
        setup_django()
        redis_started = start_redis()
        phase_virtdeck(lab, table)
        phase_pages(table, profile=args.profile)
    finally:
        tear_down(lab, redis_started)
    print_table(table)
    log(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
