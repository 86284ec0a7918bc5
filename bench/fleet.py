"""Fleet benchmark: the instance list page, the instance list API and the dashboard at 50,000 VMs on 200 hosts,
on SQLite and on PostgreSQL, with one host hung, side by side with the same pages at 5,000 VMs (same run).

Run: `.venv/bin/python bench/fleet.py` (about 10 minutes on a busy 2-core machine; `--requests N` rounds).
Figures and method: bench/README.md, "Fleet at 50,000 VMs". The lab must be up (lab/up): this script never
starts or stops it.

For each database (a child process each: Django is set up once per process):
1. 200 hosts: 3 real ones, test-driver nodes served by the lab libvirtd over real RPC and registered and synced
   through virtdeck (hosts.services.create_host, hosts.sync.sync_host); 196 host rows as a sync leaves them; and
   one hung host, a TCP port on 127.0.0.1 that accepts connections and never answers, synced over and over by a
   thread while the pages are timed (it must cost them nothing: no list page calls libvirt).
2. 5,000 VMs (25 a host): the real hosts' rows are written by the sync; the other hosts' by bulk_create, with
   the same fields filled as the sync fills them (the running VMs' counters as QEMU reports them). Pages timed.
3. 50,000 VMs (250 a host): the real hosts' node files grow to 250 VMs and are synced again; the other rows by
   bulk_create. The same pages timed again.
Pages: /instances/ (100 rows), /api/instances/, the dashboard, as a superuser and as an operator holding grants
on two hosts and five VMs; the instance list sorted by each of its columns both ways. Django's test Client in
process (DEBUG off), N rounds over all pages after a warm-up (time_pages); per page wall p50/p95 (nearest rank),
CPU p50 and SQL p50, and the slowest query's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL)
when the page's SQL takes a real share of the goal.

Works in var/bench/fleet-* only: SQLite database, node files, Redis socket, and a private PostgreSQL
(virtdeck.daemons.start_postgres, as the suite's) in var/bench/fleet-postgres, stopped by its pid at the end if
this script started it.
"""
import argparse
import cProfile
import io
import json
import math
import os
import pstats
import random
import socket
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench"))
NODES_DIR = BENCH_DIR / "fleet-nodes"
PG_DIR = BENCH_DIR / "fleet-postgres"
PG_DATABASE = "virtdeck_fleet"
LAB_PORT = int(os.environ.get("LAB_TCP_PORT", "16509"))
HOSTS, REAL_HOSTS = 200, 3
SIZES = (5_000, 50_000)
GOAL_P50_MS = 50.0
SORT_COLUMNS = ("name", "host", "state", "vcpus", "memory", "autostart", "cpu_time", "updated")
sys.path.insert(0, str(ROOT))


def log(message=""):
    print(message, flush=True)


def pct(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --------------------------------------------------------------------------- the hung host

class SilentPort:
    """A TCP port on 127.0.0.1 that accepts connections and never says a word, like a hung libvirtd."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.held, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                self.held.append(self.server.accept()[0])
            except OSError:
                continue

    def close(self):
        self.stop.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.server.close()


class HungHostSyncs:
    """sync_host on the hung host over and over in a thread (as the beat would), while pages are timed."""

    def __init__(self, host):
        self.host, self.durations, self.stop = host, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        from django.db import connection

        from hosts.sync import sync_host

        while not self.stop.is_set():
            started = time.perf_counter()
            assert sync_host(self.host) is None, "the hung host answered"
            self.durations.append((time.perf_counter() - started) * 1000)
            self.stop.wait(0.5)
        connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


# --------------------------------------------------------------------------- the fleet

def node_uri(path):
    return f"test+tcp://127.0.0.1:{LAB_PORT}{path}"


def write_node(index, vms):
    """A real host's node file of `vms` test-driver domains, names and UUIDs unique to the host."""
    from core.testing import fleet_node_xml

    xml = fleet_node_xml(vms, prefix=f"real{index}-vm")
    xml = xml.replace("<uuid>00000000-0000-4000-8000-", f"<uuid>{0xfff0 + index:08x}-0000-4000-8000-")
    path = NODES_DIR / f"real{index}-{vms}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml)
    return path


def real_hosts(per_host):
    """REAL_HOSTS hosts registered through virtdeck on node files of `per_host` VMs (facts and a first sync)."""
    from hosts.models import Host
    from hosts.services import create_host

    return [create_host(Host(name=f"real-{i}", uri=node_uri(write_node(i, per_host)))) for i in range(REAL_HOSTS)]


def grow_real_hosts(hosts, per_host):
    """Give each real host a node file of `per_host` VMs (the first ones unchanged) and sync it through virtdeck."""
    from hosts.connection import pool
    from hosts.models import Host
    from hosts.sync import sync_host

    for i, host in enumerate(hosts):
        Host.objects.filter(pk=host.pk).update(uri=node_uri(write_node(i, per_host)))
    pool().close_all()
    for host in hosts:
        assert sync_host(Host.objects.get(pk=host.pk)) == per_host


def bulk_hosts(template, count):
    """`count` host rows as a sync leaves them (up, facts and usage of a real host), plus one pool each."""
    from django.utils import timezone

    from hosts.models import Host
    from storage.models import StoragePool

    now = timezone.now()
    fields = {f: getattr(template, f) for f in ("facts", "capabilities_xml", "memory_total_kib", "memory_free_kib",
                                                "cpu_times", "cpu_percent", "latency_ms")}
    Host.objects.bulk_create([Host(name=f"kvm{i:03d}", uri=f"qemu+tcp://kvm{i:03d}.invalid/system", state=Host.State.UP,
                                   last_seen=now, last_sync=now, **fields) for i in range(count)])
    hosts = list(Host.objects.filter(name__startswith="kvm").order_by("name"))
    StoragePool.objects.bulk_create([
        StoragePool(host=h, uuid=uuidlib.uuid5(uuidlib.NAMESPACE_OID, h.name), name="default", type="dir",
                    state="active", autostart=True, capacity=2 * 10**12, allocation=(5 + i % 90) * 10**10,
                    available=2 * 10**12 - (5 + i % 90) * 10**10, target_path="/var/lib/libvirt/images")
        for i, h in enumerate(hosts)])
    return hosts


# A fleet's states: mostly running, a third shut off, a few paused, saved or crashed.
STATES = ("running",) * 60 + ("shutoff",) * 33 + ("paused",) * 4 + ("pmsuspended", "crashed", "blocked")


def bulk_instances(hosts, start, stop, rng):
    """Rows `start`..`stop`-1 of each host, with every field the sync writes (instances.models.SYNCED_FIELDS):
    names and UUIDs unique per host, QEMU-like counters for the running ones."""
    from instances import totals
    from instances.models import Instance

    rows = []
    for h, host in enumerate(hosts):
        for i in range(start, stop):
            state = rng.choice(STATES)
            active = state != "shutoff"
            memory = 262144 * rng.choice((1, 2, 4, 8, 16))
            rows.append(Instance(
                host=host, uuid=uuidlib.UUID(f"{h:08x}-{i:04x}-4000-8000-{rng.getrandbits(48):012x}"),
                name=f"{host.name}-vm{i:04d}", state=state, vcpus=rng.choice((1, 1, 2, 2, 4, 8)), memory_kib=memory,
                max_memory_kib=memory, autostart=rng.random() < 0.3, persistent=True,
                cpu_time_ns=rng.randrange(10**9, 10**15) if active else 0,
                disk_read_bytes=rng.randrange(10**10) if active else 0,
                disk_write_bytes=rng.randrange(10**10) if active else 0,
                net_rx_bytes=rng.randrange(10**10) if active else 0,
                net_tx_bytes=rng.randrange(10**10) if active else 0))
    Instance.objects.bulk_create(rows, batch_size=2000)
    # What the sync would have kept while writing them: their hosts' totals (instances/totals.py).
    totals.refresh(host.pk for host in hosts)


def operator_with_grants(hosts):
    """A non-admin user holding operator grants on two hosts and five VMs on other hosts."""
    from django.contrib.auth import get_user_model

    from access.models import Grant, Role
    from instances.models import Instance

    user = get_user_model().objects.create_user("operator", "operator@example.org", "bench-password-not-used")
    for host in hosts[10:12]:
        Grant.objects.create(user=user, role=Role.OPERATOR, host=host, lifecycle=True, console=True)
    for vm in Instance.objects.filter(host__in=hosts[20:25], name__endswith="vm0003"):
        Grant.objects.create(user=user, role=Role.OPERATOR, instance=vm, lifecycle=True)
    return user


def check_realistic(real, bulk_host):
    """The bulk rows have the fields the sync fills, of the same kinds; print one of each."""
    from instances.models import Instance

    fields = ("state", *Instance.SYNCED_FIELDS[2:])
    synced = Instance.objects.filter(host=real, state="running").values(*fields).first()
    made = Instance.objects.filter(host=bulk_host, state="running").values(*fields).first()
    log(f"    synced row (real-0): {synced}")
    log(f"    bulk row   ({bulk_host.name}): {made}")
    for field in fields:
        # The test driver reports no CPU time (None); QEMU does: the bulk rows carry QEMU's kind of value.
        if field != "cpu_time_ns":
            assert type(synced[field]) is type(made[field]), (field, synced[field], made[field])


# --------------------------------------------------------------------------- pages

def page_urls():
    """(label, url, users) to time: the three pages for both users, then every sort of the list page."""
    urls = [("/instances/", "/instances/", ("admin", "operator")),
            ("/api/instances/", "/api/instances/", ("admin", "operator")),
            ("dashboard /", "/", ("admin", "operator"))]
    for column in SORT_COLUMNS:
        for key in (column, f"-{column}"):
            urls.append((f"/instances/?ordering={key}", f"/instances/?ordering={key}", ("admin",)))
    urls.append(("/instances/?page=last", "/instances/?page=last", ("admin",)))
    return urls


def explain(sql, params):
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
    return "\n".join(" | ".join(str(c) for c in row) for row in rows)


def time_pages(users, requests, size, warmup=3):
    """Every (page, user) timed `requests` times, round-robin: the machine's load (other work) falls on all
    pages alike. Per page: p50/p95 of the whole request; p50 of the CPU time of the thread serving it (close to
    an idle machine's wall time on SQLite, which runs in that thread: waiting for a core is not counted); p50 of
    the time in SQL (the part that could grow with the fleet; the rest, rendering one page, cannot)."""
    from django.db import connection
    from django.test import Client

    clients = {}
    for name, user in users.items():
        clients[name] = Client(SERVER_NAME="localhost")
        clients[name].force_login(user)
    pages = [(f"{label} [{name}]", url, clients[name]) for label, url, who in page_urls() for name in who]
    for _key, url, client in pages:
        for _ in range(warmup):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    queries = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql, params))

    times = {key: [] for key, _url, _client in pages}
    cpu_times = {key: [] for key, _url, _client in pages}
    sql_times = {key: [] for key, _url, _client in pages}
    slowest = {key: (0, "", ()) for key, _url, _client in pages}
    counts = {}
    with connection.execute_wrapper(timed):
        for _ in range(requests):
            for key, url, client in pages:
                queries.clear()
                started, cpu_started = time.perf_counter(), time.thread_time()
                client.get(url)
                times[key].append((time.perf_counter() - started) * 1000)
                cpu_times[key].append((time.thread_time() - cpu_started) * 1000)
                sql_times[key].append(sum(q[0] for q in queries))
                counts[key] = len(queries)
                slowest[key] = max(slowest[key], max(queries))
    # FLEET_PROFILE="/instances/ [operator]": where that page's time goes at the largest size, in as many more
    # requests under cProfile (after the timed ones: the table is not measured under the profiler).
    profiled = [(url, client) for key, url, client in pages if key == os.environ.get("FLEET_PROFILE")]
    if profiled and size == SIZES[-1]:
        profile, stats = cProfile.Profile(), io.StringIO()
        for _ in range(requests):
            profile.runcall(profiled[0][1].get, profiled[0][0])
        pstats.Stats(profile, stream=stats).sort_stats("tottime").print_stats(30)
        log(f"  profile of {os.environ['FLEET_PROFILE']}, {requests} requests:\n{stats.getvalue()}")
    results = {}
    for key, _url, _client in pages:
        p50, p95, sql50 = pct(times[key], 50), pct(times[key], 95), pct(sql_times[key], 50)
        cpu50 = pct(cpu_times[key], 50)
        results[key] = {"p50": p50, "p95": p95, "cpu_p50": cpu50, "sql_p50": sql50, "queries": counts[key],
                        "slowest_ms": slowest[key][0]}
        log(f"  {size:>6} VMs {key:42s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  CPU p50 {cpu50:5.1f} ms  "
            f"SQL p50 {sql50:5.1f} ms ({counts[key]} queries, slowest {slowest[key][0]:.1f} ms)")
        if sql50 >= GOAL_P50_MS / 10:  # a page whose SQL is a real share of the goal: where does it go?
            ms, sql, params = slowest[key]
            log(f"    slowest query ({ms:.1f} ms): {sql[:300]}... {list(params)[:8]}")
            log("    plan:\n      " + explain(sql, params).replace("\n", "\n      "))
    return results


# --------------------------------------------------------------------------- one database (a child process)

def run_one(database, requests):
    from bench.django_setup import fresh_database

    os.environ["VIRTDECK_ALLOW_TEST_DRIVER"] = "1"
    state_dir = BENCH_DIR / f"fleet-{database}-state"
    url = f"postgres://virtdeck@{quote(str(PG_DIR), safe='')}/{PG_DATABASE}" if database == "postgresql" else None
    fresh_database(state_dir, url)
    import libvirt
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from core.permissions import restrict
    from hosts.connection import pool
    from hosts.models import Host
    from instances import totals as instance_totals
    from instances.models import Instance
    from virtdeck import daemons

    libvirt.registerErrorHandler(lambda *_: None, None)
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if connection.vendor == "sqlite" else "show server_version")
        log(f"\n[{database}] {connection.vendor} {cursor.fetchone()[0]}")
    _, redis_started = daemons.start_redis(settings.RUN_DIR)
    silent = SilentPort()
    rng = random.Random(12)
    out = {"loadavg_start": os.getloadavg()}
    try:
        per_host = SIZES[0] // HOSTS
        started = time.perf_counter()
        real = real_hosts(per_host)
        log(f"  {REAL_HOSTS} real hosts registered and synced through virtdeck "
            f"({Instance.objects.count()} rows): {(time.perf_counter() - started) * 1000:.0f} ms")
        # The hung host was up until now: its VMs are in the inventory, as the last sync before it hung left them.
        hung = Host.objects.create(name="hung", uri=f"qemu+tcp://127.0.0.1:{silent.port}/system", state=Host.State.UP)
        others = [*bulk_hosts(Host.objects.get(pk=real[0].pk), HOSTS - REAL_HOSTS - 1), hung]
        fleet = [*real, *others]
        started = time.perf_counter()
        bulk_instances(others, 0, per_host, rng)
        log(f"  bulk rows of {len(others)} hosts: {(time.perf_counter() - started) * 1000:.0f} ms")
        check_realistic(real[0], others[0])
        users = {"admin": get_user_model().objects.create_superuser("admin", "admin@example.org", "not-used-1"),
                 "operator": operator_with_grants(others)}
        for size in SIZES:
            if size != SIZES[0]:
                started = time.perf_counter()
                grow_real_hosts(real, size // HOSTS)
                bulk_instances(others, per_host, size // HOSTS, rng)
                per_host = size // HOSTS
                log(f"  grown to {size} VMs (real hosts synced, others bulk): "
                    f"{(time.perf_counter() - started) * 1000:.0f} ms")
            with connection.cursor() as cursor:  # planner statistics (and PostgreSQL's visibility map), as
                cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")  # autovacuum would
            assert Instance.objects.count() == size == len(fleet) * per_host, Instance.objects.count()
            assert sum(row["n"] for row in instance_totals.read().values()) == size  # the admin's dashboard reads them
            visible = restrict(Instance.objects.all(), users["operator"]).count()
            log(f"\n  {size} VMs on {Host.objects.count()} hosts (one hung); the operator sees {visible} of them")
            with HungHostSyncs(Host.objects.get(pk=hung.pk)) as syncs:
                out[size] = time_pages(users, requests, size)
            hung.refresh_from_db()
            out[f"hung {size}"] = {"syncs": len(syncs.durations), "max_ms": max(syncs.durations, default=0),
                                   "state": hung.state, "error": hung.last_error[:120]}
            log(f"  meanwhile the hung host: {len(syncs.durations)} syncs (up to "
                f"{max(syncs.durations, default=0):.0f} ms each), state {hung.state}: {hung.last_error[:100]}")
    finally:
        pool().close_all()
        silent.close()
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
        connection.close()
    out["loadavg_end"] = os.getloadavg()
    print("RESULT " + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- both databases, side by side

def fresh_postgres():
    """The bench's own PostgreSQL server (started if it does not answer) and an empty database on it."""
    import psycopg

    from virtdeck import daemons

    _, started = daemons.start_postgres(PG_DIR)
    with psycopg.connect(host=str(PG_DIR), user=daemons.POSTGRES_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return started


def child(database, requests):
    result = None
    process = subprocess.Popen([sys.executable, __file__, "--database", database, "--requests", str(requests)],
                               stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise SystemExit(f"the {database} run failed (exit {process.returncode})")
    return result


def print_table(results):
    """Per page and database, at both sizes: p50 / p95 of the request (p50 of its CPU time) [p50 of its SQL];
    the ratios 50k / 5k of the p50s: wall (CPU) [SQL]."""
    small, big = (str(size) for size in SIZES)
    head = ["page [user]"]
    for database in results:
        head += [f"{database} {SIZES[0] // 1000}k", f"{database} {SIZES[1] // 1000}k", "ratio (CPU) [SQL]"]
    head.append(f"goal p50 < {GOAL_P50_MS:.0f} ms at 50k: wall (CPU)")
    rows = []
    for key in next(iter(results.values()))[small]:
        row, met, cpu_met = [key], True, True
        for result in results.values():
            a, b = result[small][key], result[big][key]
            row += [f"{a['p50']:.0f} / {a['p95']:.0f} ({a['cpu_p50']:.0f}) [{a['sql_p50']:.1f}]",
                    f"{b['p50']:.0f} / {b['p95']:.0f} ({b['cpu_p50']:.0f}) [{b['sql_p50']:.1f}]",
                    f"{b['p50'] / a['p50']:.2f} ({b['cpu_p50'] / a['cpu_p50']:.2f}) "
                    f"[{b['sql_p50'] / max(a['sql_p50'], 0.01):.1f}]"]
            met, cpu_met = met and b["p50"] < GOAL_P50_MS, cpu_met and b["cpu_p50"] < GOAL_P50_MS
        row.append(f"{'met' if met else 'NOT met'} ({'met' if cpu_met else 'NOT met'})")
        rows.append(row)
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    log("\n" + line)
    for k, row in enumerate((head, *rows)):
        left = (0, len(row) - 1)
        log("  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            log(line)
    log(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15, help="timed requests per page")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database instead of both")
    args = parser.parse_args()
    if args.database:
        return run_one(args.database, args.requests)
    if subprocess.run([str(ROOT / "lab" / "status")], capture_output=True).returncode != 0:
        sys.exit("the lab is down: start it with lab/up (this benchmark never does)")
    import libvirt

    log(f"virtdeck fleet benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, libvirt {libvirt.getVersion()}, "
        f"Python {sys.version.split()[0]}")
    started = time.perf_counter()
    results = {}
    pg_started = False
    try:
        for database in (args.only,) if args.only else ("sqlite", "postgresql"):
            if database == "postgresql":
                pg_started = fresh_postgres()
            results[database] = child(database, args.requests)
    finally:
        if pg_started:
            from virtdeck import daemons

            daemons.stop_postgres(PG_DIR)  # by the pid in its postmaster.pid: ours
            log("private PostgreSQL stopped")
    print_table(results)
    for database, result in results.items():
        log(f"{database}: load average {result['loadavg_start'][0]:.2f} at the start, "
            f"{result['loadavg_end'][0]:.2f} at the end")
    log(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
