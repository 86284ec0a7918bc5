"""`make run` for real (scripts/run.py on a state dir of its own): it restarts what crashes, web serves on,
the banner tells while Redis is down, Ctrl+C stops every process it started, its database is private.
"""
import http.cookiejar
import importlib.util
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from core.testing import PASSWORD, eventually, free_port
from virtdeck import daemons

pytestmark = [pytest.mark.worker, pytest.mark.lab]

ROOT = Path(settings.BASE_DIR)
CHILDREN = ("redis", "demo-libvirtd", "demo-keeper", "web", "worker", "inventory", "beat", "watcher")
BANNER = "virtdeck is degraded."


class MakeRun:
    def __init__(self, lab, tmp_path):
        self.state = tmp_path / "state"
        self.run_dir = Path(tempfile.mkdtemp(prefix="vd-run-"))  # short: a unix socket path has ~107 bytes
        self.base = f"http://127.0.0.1:{free_port()}"
        self.log_path = tmp_path / "make-run.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
        env.update(VIRTDECK_STATE_DIR=str(self.state), VIRTDECK_RUN_DIR=str(self.run_dir),
                   PORT=self.base.rsplit(":", 1)[1], LAB_TCP_PORT=str(lab["port"]),
                   VIRTDECK_ADMIN_PASSWORD=PASSWORD, VIRTDECK_HEALTH_HEARTBEAT_INTERVAL="1",
                   VIRTDECK_HEALTH_DOWN_AFTER="4", PYTHONUNBUFFERED="1")
        self.log = open(self.log_path, "w")
        # umask 022 as in a usual shell: the database must come out 0600 anyway.
        self.proc = subprocess.Popen([sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, umask=0o022)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.started = set()  # every child PID seen in a pidfile

    def output(self):
        return self.log_path.read_text()

    def pid(self, name):
        pid = daemons.read_pid(self.run_dir / f"{name}.pid")
        if pid:
            self.started.add(pid)
        return pid

    def wait(self, check, what, timeout=60):
        eventually(lambda: check() or self.proc.poll() is not None, timeout=timeout, interval=0.2,
                   message=f"make run: {what}")
        assert self.proc.poll() is None, f"make run exited ({self.proc.returncode}):\n{self.output()}"

    def get(self, path, data=None):
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode() if data else None)
        with self.opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()

    def answers(self, path="/login/"):
        try:
            return self.get(path)[0] == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_in(self):
        page = self.get("/login/")[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, home = self.get("/login/", {"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": token})
        assert status == 200 and "health-banner" in home

    def banner(self):
        return self.get("/")[1]

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        self.log.close()


@pytest.fixture
def make_run(lab, tmp_path):
    run = MakeRun(lab, tmp_path)
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        for pid in pids_in_groups(run.started):  # a failed test must not leave processes behind
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(run.run_dir, ignore_errors=True)


def pids_in_groups(pgids):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) in pgids and fields[0] != "Z":
                found.append(int(entry))
    return found


def restarted(run, name, old_pid):
    pid = run.pid(name)
    return pid and pid != old_pid and daemons.pid_alive(pid)


def test_it_restarts_crashed_children_while_web_serves_and_stops_them_all(make_run):
    run = make_run
    run.wait(lambda: all(run.pid(name) for name in CHILDREN) and run.answers(), "every child started, web up")
    run.log_in()
    run.wait(lambda: BANNER not in run.banner(), "every heartbeat in (no banner)")

    # A worker killed: restarted after its backoff, web answering all along.
    web, worker = run.pid("web"), run.pid("worker")
    os.kill(worker, signal.SIGKILL)
    run.wait(lambda: run.answers() and restarted(run, "worker", worker), "worker restarted")
    assert f"worker (pid {worker}) exited with -9; restarting in 1 s" in run.output()
    eventually(lambda: not pids_in_groups({worker}), message="its pool processes killed with it")

    # Redis hung, then killed: the banner says so at once, pages answer, and it goes once Redis is back.
    redis = run.pid("redis")
    os.kill(redis, signal.SIGSTOP)
    run.wait(lambda: "Redis is down" in run.banner(), "banner naming Redis")
    os.kill(redis, signal.SIGKILL)
    run.wait(lambda: restarted(run, "redis", redis), "redis restarted")
    assert f"redis (pid {redis}) exited with -9; restarting in 1 s" in run.output()
    run.wait(lambda: BANNER not in run.banner(), "banner gone once Redis and every heartbeat are back")
    assert run.pid("web") == web

    database = run.state / "virtdeck.sqlite3"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    for name in CHILDREN:
        run.pid(name)
    run.interrupt()
    assert run.proc.returncode == 0, run.output()
    # Every child and what it started: gone (SIGKILLed leftovers take a moment to exit).
    eventually(lambda: not pids_in_groups(run.started), message="every process make run started gone")
    assert not list(run.run_dir.glob("*.pid"))
    assert "virtdeck: stopped" in run.output()


def test_it_serves_the_demo_host_from_a_libvirtd_only_virtdeck_can_reach(make_run):
    run = make_run
    run.wait(lambda: run.pid("demo-keeper") and run.answers(), "the demo libvirtd and web up")
    run.log_in()
    run.wait(lambda: ">test</a>" in run.get("/instances/")[1], "the demo host's VM listed")
    socket_dir = run.run_dir / "demo-libvirt"
    socket = socket_dir / "libvirt-sock"
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(socket.stat().st_mode) == 0o700 and socket.stat().st_uid == os.geteuid()
    uri = f"test+unix:///default?socket={socket}"
    # Another local user is refused by the socket itself; virtdeck's user gets the demo's one VM, and
    # nothing of the lab libvirtd's VMs (its own mount namespace, its own state).
    other = subprocess.run(["runuser", "-u", "nobody", "--", "virsh", "-c", uri, "list", "--all", "--name"],
                           capture_output=True, text=True)
    assert other.returncode != 0 and "Permission denied" in other.stderr
    own = subprocess.run(["virsh", "-c", uri, "list", "--all", "--name"], capture_output=True, text=True, check=True)
    assert own.stdout.split() == ["test"]
    qemu = subprocess.run(["virsh", "-c", uri.replace("test+unix:///default", "qemu+unix:///system"), "list",
                           "--all", "--name"], capture_output=True, text=True)
    assert qemu.returncode != 0 or not qemu.stdout.split()
    # No TCP listener: the daemon's sockets are unix ones only.
    daemon = run.pid("demo-libvirtd")
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    assert f"pid={daemon}," not in listening


def test_it_makes_the_database_of_an_older_run_private(tmp_path):
    spec = importlib.util.spec_from_file_location("virtdeck_run_script", ROOT / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    database = tmp_path / "virtdeck.sqlite3"
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in files:
        path.write_bytes(b"")
        path.chmod(0o644)
    run.make_database_private({"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)})
    assert [stat.S_IMODE(path.stat().st_mode) for path in files] == [0o600] * 3
