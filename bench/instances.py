"""Instance actions benchmark: bulk stop/start through the API vs a direct libvirt loop, an action's round
trip, and the list page with the action buttons.

Run: `.venv/bin/python bench/instances.py` (part of `make bench`). Figures and method: bench/README.md.

1. 4 "hosts" x 50 running VMs, each a libvirt test-driver node served by the lab libvirtd over real RPC
   (test+tcp://127.0.0.1:16509/<abs path>.xml), registered through hosts.services.create_host.
   After one untimed round, timed in alternating rounds: POST /api/instances/bulk/ {"action": "destroy"} then
   {"action": "start"} for all 200 VMs (Django's test Client in-process: URL routing, auth, validation, the
   row and live state checks, the action, the row re-read and written), against a direct loop over the same
   200 VMs with libvirt-python (lookupByUUIDString + destroy() / create(), one host after the other, no
   checks).
   Over test+tcp each client connection gets its own copy of a node file, so both sides do the same work
   on their own copy.
2. One action's round trip: POST /api/instances/{id}/suspend/ and .../resume/ alternately, from the POST
   to the answer, which carries the row as re-read (checked: the row in the database shows the new state
   when the answer arrives). p50/p95.
3. /instances/ and /api/instances/ with 5,000 rows (20 hosts x 250 VMs), the per-row action buttons and
   bulk checkboxes included: p50/p95, to compare with bench/inventory.py's figures.

Everything lives under var/bench/ (own SQLite database, node files, Redis socket), as bench/inventory.py.
"""
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_inventory", ROOT / "bench" / "inventory.py")
inv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(inv)

ACTION_HOSTS, ACTION_VMS = 4, 50
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ROUND_TRIPS = int(os.environ.get("BENCH_ROUND_TRIPS", "60"))
GOAL_BULK_RATIO = 1.5
GOAL_ROUND_TRIP_P50_MS = 100.0
PAGES = ["/instances/", "/api/instances/"]


def write_running_node(path, count, host_index):
    """A node of `count` running VMs, names and UUIDs unique per host (a4-vm0007)."""
    from core.testing import fleet_node_xml

    xml = fleet_node_xml(count, running_every=1, prefix=f"a{host_index}-vm")
    xml = xml.replace("<uuid>00000000-0000-4000-8000-", f"<uuid>{host_index + 90:08d}-0000-4000-8000-")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml)
    return path


def post(client, url, body=None):
    response = client.post(url, json.dumps(body or {}), content_type="application/json")
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response.json()


def phase_bulk(lab, client, table):
    import libvirt

    from hosts import services
    from hosts.models import Host
    from instances.models import Instance

    inv.log(f"\n[1/3] bulk stop and start: {ACTION_HOSTS} hosts x {ACTION_VMS} VMs over test+tcp, "
            f"API vs direct libvirt loop, {ROUNDS} rounds")
    paths = [write_running_node(inv.NODES_DIR / f"actions{i}.xml", ACTION_VMS, i) for i in range(ACTION_HOSTS)]
    hosts = inv.with_lab(lab, "create_host", lambda: [
        services.create_host(Host(name=f"actions-{i}", uri=inv.node_uri(p))) for i, p in enumerate(paths)])
    ids = list(Instance.objects.filter(host__in=hosts).order_by("host__name", "name").values_list("pk", flat=True))
    assert len(ids) == ACTION_HOSTS * ACTION_VMS and Instance.objects.filter(pk__in=ids, state="running").count() == len(ids)
    uuids = [str(u) for u in Instance.objects.filter(host__in=hosts).order_by("host__name", "name")
             .values_list("uuid", flat=True)]
    per_host = [uuids[i * ACTION_VMS:(i + 1) * ACTION_VMS] for i in range(ACTION_HOSTS)]
    conns = [libvirt.open(inv.node_uri(p)) for p in paths]

    def direct(method):
        t = time.perf_counter()
        for conn, host_uuids in zip(conns, per_host):
            for uuid in host_uuids:
                getattr(conn.lookupByUUIDString(uuid), method)()
        return (time.perf_counter() - t) * 1000

    def api(action):
        t = time.perf_counter()
        body = post(client, "/api/instances/bulk/", {"action": action, "ids": ids})
        elapsed = (time.perf_counter() - t) * 1000
        assert body["succeeded"] == len(ids), body["results"][:3]
        return elapsed

    # One untimed round: the first request loads the URL configuration and what its views import, as a
    # running server has long done.
    api("destroy"), direct("destroy"), api("start"), direct("create")
    load_before = os.getloadavg()
    times = {"api stop": [], "api start": [], "direct stop": [], "direct start": []}
    for _ in range(ROUNDS):
        times["api stop"].append(api("destroy"))
        times["direct stop"].append(direct("destroy"))
        times["api start"].append(api("start"))
        times["direct start"].append(direct("create"))
    expected_running = sum(conn.numOfDomains() for conn in conns)
    for conn in conns:
        conn.close()
    assert expected_running == len(ids) and Instance.objects.filter(pk__in=ids, state="running").count() == len(ids)
    load = f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    inv.log(f"  ({load}; {os.cpu_count()} CPUs shared with whatever else runs)")
    for what in ("stop", "start"):
        api_ms, direct_ms = inv.median(times[f"api {what}"]), inv.median(times[f"direct {what}"])
        ratio = api_ms / direct_ms
        # The fastest rounds of each side: the least disturbed by other work on the machine.
        best = min(times[f"api {what}"]) / min(times[f"direct {what}"])
        inv.log(f"  {what:5s}: API median {api_ms:7.1f} ms (runs {', '.join(f'{x:.0f}' for x in times[f'api {what}'])}); "
                f"direct median {direct_ms:7.1f} ms (runs {', '.join(f'{x:.0f}' for x in times[f'direct {what}'])}); "
                f"{ratio:.2f}x (fastest rounds: {best:.2f}x)")
        table.append((f"bulk {what}, {len(ids)} VMs on {ACTION_HOSTS} hosts (median ms)", f"{direct_ms:.0f}",
                      f"{api_ms:.0f}", f"{ratio:.2f}x",
                      f"goal <= {GOAL_BULK_RATIO}x: " + ("met" if ratio <= GOAL_BULK_RATIO else "NOT met")))
    return ids


def phase_round_trip(client, ids, table):
    from instances.models import Instance

    inv.log(f"\n[2/3] one action's round trip: {ROUND_TRIPS} POSTs alternating suspend and resume")
    vm_id = ids[0]
    times = []
    for n in range(ROUND_TRIPS + 4):
        action, state = ("suspend", "paused") if n % 2 == 0 else ("resume", "running")
        t = time.perf_counter()
        body = post(client, f"/api/instances/{vm_id}/{action}/")
        elapsed = (time.perf_counter() - t) * 1000
        assert body["state"] == state and Instance.objects.get(pk=vm_id).state == state
        if n >= 4:  # warm-up
            times.append(elapsed)
    p50, p95 = inv.pct(times, 50), inv.pct(times, 95)
    inv.log(f"  POST to the row showing the new state: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    table.append(("action round trip, POST to new row state p50 / p95 ms", "", f"{p50:.1f} / {p95:.1f}", "",
                  f"goal p50 < {GOAL_ROUND_TRIP_P50_MS:.0f}: " + ("met" if p50 < GOAL_ROUND_TRIP_P50_MS else "NOT met")))


def phase_list(lab, client, table, requests=50, warmup=5):
    from hosts import services
    from hosts.models import Host
    from instances.models import Instance

    Host.objects.all().delete()
    paths = [inv.write_node(inv.NODES_DIR / f"host{i:02d}.xml", inv.VMS, i) for i in range(inv.HOSTS)]
    inv.with_lab(lab, "create_host", lambda: [
        services.create_host(Host(name=f"bench-{i:02d}", uri=inv.node_uri(p))) for i, p in enumerate(paths)])
    inv.log(f"\n[3/3] list pages with {Instance.objects.count()} instances and their action buttons, "
            f"{requests} requests after {warmup} warm-up")
    for url in PAGES:
        for _ in range(warmup):
            response = client.get(url)
            assert response.status_code == 200
        if not url.startswith("/api/"):
            assert 'data-action="shutdown"' in response.content.decode()  # the buttons are there
        times = inv.request_ms(client, url, requests)
        p50, p95 = inv.pct(times, 50), inv.pct(times, 95)
        inv.log(f"  {url:20s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(response.content) // 1024} KiB)")
        table.append((f"GET {url} with action buttons, p50 / p95 ms", "", f"{p50:.1f} / {p95:.1f}", "",
                      f"goal p50 < {inv.GOAL_P50_MS:.0f}: " + ("met" if p50 < inv.GOAL_P50_MS else "NOT met")))


def main():
    started = time.perf_counter()
    inv.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    import libvirt

    libvirt.registerErrorHandler(lambda *a: None, None)
    inv.log(f"virtdeck instance actions benchmark: {os.cpu_count()} CPUs, libvirt {libvirt.getVersion()}, "
            f"state dir {inv.BENCH_DIR}")
    lab = inv.Lab()
    lab.ensure()
    redis_started = False
    table = []
    try:
        inv.setup_django()
        from django.contrib.auth import get_user_model
        from django.test import Client

        redis_started = inv.start_redis()
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-password-not-used")
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        ids = phase_bulk(lab, client, table)
        phase_round_trip(client, ids, table)
        phase_list(lab, client, table)
    finally:
        inv.tear_down(lab, redis_started)
    inv.print_table(table)
    inv.log(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
