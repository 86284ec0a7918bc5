"""Migration benchmark: virtdeck's migration job vs bare `virsh migrate --live`, same guest, same lab, one run.

Run: `.venv/bin/python bench/migration.py [ROUNDS]` as root (the two-host lab, lab/hosts, is started if it
is down and then stopped at the end). Figures and method: bench/README.md.

A 256 MiB TCG guest running lab/dirty_memory.S (it rewrites 32 MiB of its RAM all the time) on the lab's
shared directory moves A -> B and back, ROUNDS times each way per method, alternating methods:
- bare: `virsh -c qemu+tcp://A/system migrate --live --p2p --persistent --undefinesource --unsafe VM
  qemu+tcp://B/system`, wall time of the command; downtime from `virsh domjobinfo --completed` on B.
- virtdeck: the job (`instances.migration_tasks.MigrateInstance.run`, in-process, as a worker runs it):
  the same flags, the 0.5 s monitor, the row moved and re-read; its wall time and libvirt's downtime.
  The precheck (run once when the job is requested, not by the job) is timed on its own.
Goal (issue 10): virtdeck's job at most 1.05x the bare migration plus 0.2 s.

Its own database under var/bench-migration/ (the dev database is never touched); jobs are not sent to a
broker (they run here).
"""
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("VIRTDECK_BENCH_DIR", ROOT / "var" / "bench-migration"))
LAB_DIR = Path(os.environ.get("LAB_DIR") or ROOT / "var" / "lab")
HOSTS = {"hostA": ("10.77.0.1", "qemu+tcp://10.77.0.1/system"), "hostB": ("10.77.0.2", "qemu+tcp://10.77.0.2/system")}
GOAL_RATIO, GOAL_SLACK_S = 1.05, 0.2

sys.path.insert(0, str(ROOT))


def virsh(uri, *args):
    return subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True, check=True).stdout


def downtime_ms(uri, name):
    for line in virsh(uri, "domjobinfo", name, "--completed").splitlines():
        if line.startswith("Total downtime:"):
            return int(line.split(":")[1].split()[0])
    return None


def setup_django():
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR)


def main(rounds):
    lab_script = str(ROOT / "lab" / "hosts")
    started = subprocess.run([lab_script, "status"], capture_output=True).returncode != 0
    if started:
        subprocess.run([lab_script, "up"], check=True, capture_output=True)
    setup_django()
    import libvirt
    from django.conf import settings

    from virtdeck import daemons

    _sock, redis_started = daemons.start_redis(settings.RUN_DIR)  # job events are published as in production

    from hosts.models import Host
    from hosts.services import create_host
    from hosts.sync import sync_host
    from instances.migration_jobs import start_migration
    from instances.migration_tasks import migrate_instance
    from instances.models import Instance
    from lab import guest
    from virt.migration import Options

    libvirt.registerErrorHandler(lambda *args: None, None)
    migrate_instance.apply_async = lambda *args, **kwargs: SimpleNamespace(id="in-process")
    hosts = {name: create_host(Host(name=name, uri=uri, migration_address=address))
             for name, (address, uri) in HOSTS.items()}
    name = f"vd-bench-{uuid.uuid4().hex[:8]}"
    shared = LAB_DIR / "hosts" / "shared"
    disk = guest.make_dirty_memory_disk(shared, name)
    conn = libvirt.open(HOSTS["hostA"][1])
    conn.defineXML(guest.domain_xml(name, disk, disk_format="raw", vnc_listen="0.0.0.0")).create()
    conn.close()
    time.sleep(2)  # let the guest reach its loop: every run then moves a guest that dirties memory
    figures = {"bare": [], "virtdeck": [], "precheck": [], "jobs": []}
    where = "hostA"
    try:
        for _ in range(rounds):
            for method in ("bare", "virtdeck"):
                for _leg in range(2):
                    there = "hostB" if where == "hostA" else "hostA"
                    if method == "bare":
                        began = time.perf_counter()
                        virsh(HOSTS[where][1], "migrate", "--live", "--p2p", "--persistent", "--undefinesource",
                              "--unsafe", name, HOSTS[there][1])
                        wall = time.perf_counter() - began
                        figures["bare"].append((wall, downtime_ms(HOSTS[there][1], name)))
                    else:
                        sync_host(hosts[where])
                        row = Instance.objects.get(host=hosts[where], name=name)
                        began = time.perf_counter()
                        job = start_migration(row, None, hosts[there], Options(unsafe=True))
                        figures["precheck"].append(time.perf_counter() - began)
                        began = time.perf_counter()
                        status = migrate_instance.run(job.pk, **job.params)
                        wall = time.perf_counter() - began
                        job.refresh_from_db()
                        if status != "succeeded":
                            raise SystemExit(f"virtdeck job failed: {job.error}")
                        figures["virtdeck"].append((wall, job.result.get("downtime_ms")))
                        figures["jobs"].append(job.result)
                    where = there
    finally:
        conn = libvirt.open(HOSTS[where][1])
        dom = conn.lookupByName(name)
        dom.destroy()
        dom.undefine()
        conn.close()
        Path(disk).unlink(missing_ok=True)
        if started:
            subprocess.run([lab_script, "down"], capture_output=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)
    report(figures)


def report(figures):
    def med(values):
        return statistics.median(values)

    bare_s, virtdeck_s = med([w for w, _ in figures["bare"]]), med([w for w, _ in figures["virtdeck"]])
    bare_dt, virtdeck_dt = med([d for _, d in figures["bare"]]), med([d for _, d in figures["virtdeck"]])
    goal = GOAL_RATIO * bare_s + GOAL_SLACK_S
    print(f"runs per method: {len(figures['bare'])} (A->B and B->A alternating)")
    print(f"{'':28}{'bare virsh':>14}{'virtdeck job':>14}")
    print(f"{'total time, median (s)':28}{bare_s:>14.3f}{virtdeck_s:>14.3f}")
    print(f"{'downtime, median (ms)':28}{bare_dt:>14}{virtdeck_dt:>14}")
    print(f"all runs (s, ms): bare {[(round(w, 3), d) for w, d in figures['bare']]}")
    print(f"                  virtdeck {[(round(w, 3), d) for w, d in figures['virtdeck']]}")
    print("virtdeck job results (MiB sent, memory passes, MiB left after each pass):")
    for result in figures["jobs"]:
        print(f"  {result['source']} -> {result['target']}: {(result['data_processed'] or 0) / 2**20:.0f} MiB, "
              f"{result['memory_iterations']} passes, "
              f"{[round(left / 2**20, 1) for _, left in result['remaining_by_iteration']]}")
    print(f"precheck before the job (median): {med(figures['precheck']):.3f} s")
    print(f"goal: virtdeck <= {GOAL_RATIO} x bare + {GOAL_SLACK_S} s = {goal:.3f} s: "
          + ("met" if virtdeck_s <= goal else "NOT met"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
