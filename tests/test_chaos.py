"""A host that freezes and resumes, again and again, while syncs, events and page loads run.

The host is the lab libvirtd's test driver reached through a TCP forwarder that
runs as its own process: SIGSTOP freezes it (the kernel still accepts
connections, so libvirt sees a host that answers TCP and then says nothing),
SIGCONT resumes it, SIGUSR1 resets every connection it holds. A real inventory
worker, Celery beat, the host watcher and daphne run against it with short
timeouts and keepalive so that every cycle goes through call timeouts,
abandoned calls, keepalive closes and reconnects.

CHAOS_CYCLES (default 8) sets the number of freeze/resume cycles.
"""
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from core.testing import AppProcess, daphne_process, eventually, free_port
from hosts import services
from hosts.models import Host
from instances.models import Instance

pytestmark = [pytest.mark.lab, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CYCLES = max(4, int(os.environ.get("CHAOS_CYCLES", "8")))
# The worker's thread pool and its database connections grow during the first cycles; count from here on.
WARM_UP = 2
# Short enough that each frozen period times calls out, abandons them and lets keepalive close connections.
FAST_FAILURE = {
    "VIRTDECK_LIBVIRT_TIMEOUT": "2",
    "VIRTDECK_LIBVIRT_CONNECT_TIMEOUT": "1",
    "VIRTDECK_LIBVIRT_KEEPALIVE": "1,3",
    "VIRTDECK_LIBVIRT_BACKOFF_MAX": "2",
    "VIRTDECK_SYNC_INTERVAL": "0.5",
    "PYTHONFAULTHANDLER": "1",
}
CRASH_SIGNS = ("Segmentation fault", "Fatal Python error", "virObjectGetLockableObj", "GLib-CRITICAL",
               "is not a virObject")


@pytest.fixture
def forwarder(lab, tmp_path):
    """The forwarder process in front of the lab libvirtd; yields (its port, its Popen)."""
    from virtdeck import daemons

    port = free_port()
    pidfile = tmp_path / "forwarder.pid"
    proc = subprocess.Popen([sys.executable, "-m", "core.testing.forwarder", str(port), str(lab["port"])],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    pidfile.write_text(str(proc.pid))
    assert "forwarding" in proc.stdout.readline()
    yield port, proc
    os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
    daemons.stop_pidfile(pidfile)
    proc.wait(timeout=10)


@pytest.fixture
def chaos_domain(lab):
    """A test-driver domain on the lab, changed out of band (not through the forwarder) to make events."""
    import libvirt

    conn = libvirt.open(lab["test_uri"])
    name = f"chaos-{uuid.uuid4().hex[:8]}"
    dom = conn.defineXML(f"<domain type='test'><name>{name}</name><memory>65536</memory>"
                         "<os><type>hvm</type></os></domain>")
    yield dom
    if dom.isActive():
        dom.destroy()
    dom.undefine()
    conn.close()


def resources(pid, port):
    """(threads, open TCP connections to `port`) of a process: a leaked libvirt connection stays open.

    Only connections to the host count: worker threads open their own database files and Redis
    connections whenever they first run a task, which can be any cycle.
    """
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            inodes.add(os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").removesuffix("]"))
        except OSError:
            pass  # closed meanwhile
    with open(f"/proc/{pid}/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    to_host = sum(1 for row in rows if int(row[2].split(":")[1], 16) == port and row[9] in inodes)
    return len(os.listdir(f"/proc/{pid}/task")), to_host


class PageLoads(threading.Thread):
    """Logged-in page loads against daphne, all the time: every one must answer 200."""

    def __init__(self, base, session, paths):
        super().__init__(daemon=True)
        self.base, self.session, self.paths = base, session, paths
        self.statuses, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            for path in self.paths:
                request = urllib.request.Request(self.base + path, headers={"Cookie": f"sessionid={self.session}"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        self.statuses.append(answer.status)
                except Exception as exc:  # noqa: BLE001 - recorded, asserted on at the end
                    self.statuses.append(repr(exc))
            self.stop.wait(0.2)


@pytest.fixture
def chaos_host(forwarder):
    return services.create_host(Host(name="chaos", uri=f"test+tcp://127.0.0.1:{forwarder[0]}/default"))


@pytest.fixture
def app(chaos_host, tmp_path):
    """daphne, an inventory worker, beat and the watcher, all with the fast-failure settings."""
    celery = [sys.executable, "-m", "celery", "-A", "virtdeck"]
    with contextlib.ExitStack() as stack:
        base, daphne = stack.enter_context(daphne_process(tmp_path, env=FAST_FAILURE))
        processes = {"daphne": daphne}
        for name, argv in (
            ("inventory", [*celery, "worker", "-l", "info", "-Q", "inventory", "--pool", "threads", "--concurrency",
                           "4", "-n", f"chaos-{os.getpid()}@%h", "--without-mingle", "--without-gossip"]),
            ("beat", [*celery, "beat", "-l", "info", "--schedule", str(tmp_path / "beat-schedule")]),
            ("watcher", [sys.executable, "manage.py", "watch_hosts", "--rescan", "0.5"]),
        ):
            processes[name] = AppProcess(name, argv, tmp_path, env=FAST_FAILURE)
            stack.callback(processes[name].stop)
        processes["inventory"].wait_until(lambda: "ready." in processes["inventory"].output(), timeout=60,
                                          what="ready")
        yield base, processes


def test_it_survives_a_host_that_freezes_and_resumes(forwarder, chaos_host, chaos_domain, app, admin_user):
    port, fwd = forwarder
    host = chaos_host
    base, processes = app
    web = Client()
    web.force_login(admin_user)
    loads = PageLoads(base, web.cookies["sessionid"].value, ["/", "/hosts/", f"/hosts/{host.pk}/", "/instances/"])
    started = time.monotonic()
    loads.start()
    try:
        def state():
            return Host.objects.get(pk=host.pk).state

        def row_state():
            row = Instance.objects.filter(host=host, uuid=chaos_domain.UUIDString()).first()
            return row.state if row else None

        for cycle in range(CYCLES):
            # Healthy: an out-of-band change reaches the row through the watcher's events.
            if chaos_domain.isActive():
                chaos_domain.destroy()
                expected = "shutoff"
            else:
                chaos_domain.create()
                expected = "running"
            eventually(lambda: row_state() == expected, timeout=20, interval=0.1,
                       message=f"cycle {cycle}: event for the chaos domain applied")

            # Frozen: syncs time out, calls are abandoned, keepalive closes the connections.
            fwd.send_signal(signal.SIGSTOP)
            eventually(lambda: state() == Host.State.UNREACHABLE, timeout=20, interval=0.1,
                       message=f"cycle {cycle}: host marked unreachable while frozen")
            frozen_until = time.monotonic() + 3  # keepalive (1 s x 3) gives up on the abandoned calls' connections
            while time.monotonic() < frozen_until:
                time.sleep(0.1)
            fwd.send_signal(signal.SIGCONT)
            if cycle % 2:
                fwd.send_signal(signal.SIGUSR1)  # and a network that resets every connection
            resumed = timezone.now()

            # Resumed: up again after a sync that started after the resume, and it stays up.
            eventually(lambda: Host.objects.filter(pk=host.pk, state=Host.State.UP, last_sync__gt=resumed).exists(),
                       timeout=20, interval=0.1, message=f"cycle {cycle}: host up again after the resume")
            stays_up_until = time.monotonic() + 2
            while time.monotonic() < stays_up_until:
                assert state() == Host.State.UP, f"cycle {cycle}: flipped back: {Host.objects.get(pk=host.pk)}"
                time.sleep(0.1)
            for proc in processes.values():
                assert proc.proc.poll() is None, f"{proc.name} exited in cycle {cycle}:\n{proc.output()[-3000:]}"
            if cycle == WARM_UP:
                baseline = {name: resources(processes[name].pid, port) for name in ("inventory", "watcher")}

        # No growth in threads or connections to the host since the warm-up: abandoned calls have all returned, retired
        # connections are closed (a connection or two may be opening or closing right now).
        for proc in (processes["inventory"], processes["watcher"]):
            threads, connections = baseline[proc.name]

            def settled(pid=proc.pid, threads=threads, connections=connections):
                now_threads, now_connections = resources(pid, port)
                return now_threads <= threads + 1 and now_connections <= connections + 2

            eventually(settled, timeout=15, interval=0.2,
                       message=f"{proc.name}: threads and connections to the host back near {baseline[proc.name]}")
    finally:
        loads.stop.set()
        loads.join(timeout=15)
    logs = {name: proc.output() for name, proc in processes.items()}
    for name, log in logs.items():
        for sign in CRASH_SIGNS:
            assert sign not in log, f"{name} log shows {sign!r}:\n{log[-3000:]}"
    assert loads.statuses and set(loads.statuses) == {200}, [s for s in loads.statuses if s != 200][:5]
    print(f"\nchaos: {CYCLES} freeze/resume cycles, {len(loads.statuses)} page loads, "
          f"{time.monotonic() - started:.0f} s")
