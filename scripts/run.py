"""`make run`: the whole of virtdeck on this machine, on embedded defaults.

Migrates SQLite, makes sure an `admin` user exists, starts a private Redis and
a private libvirtd (which serves the demo host over libvirt's test driver, on a
unix socket only virtdeck can reach: virtdeck/demo_libvirtd.py), registers the
demo host when there is none, then runs daphne, two Celery
workers (jobs on the default queue, inventory syncs on the "inventory" queue),
Celery beat and the host watcher until Ctrl+C, which stops everything this
command started (by PID, never by name). A child that exits (Redis included)
is logged and restarted after a backoff (virtdeck.daemons.Supervisor); the
others, web included, carry on meanwhile.
"""
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "virtdeck.settings")
os.environ.setdefault("VIRTDECK_ALLOW_TEST_DRIVER", "1")  # the demo host is libvirt's test driver

from virtdeck import demo_libvirtd  # noqa: E402 - plain Python, no Django

# Children inherit it: test+unix:// URIs reach the demo daemon's socket.
DEMO_DIR = Path(os.environ.get("VIRTDECK_RUN_DIR", ROOT / "var" / "run")) / "demo-libvirt"
os.environ["VIRTDECK_DEMO_LIBVIRT_SOCKET"] = str(demo_libvirtd.socket_path(DEMO_DIR))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from virtdeck import daemons  # noqa: E402

PORT = int(os.environ.get("PORT", "8000"))
DEMO_URI = "test+unix:///default"  # hosts.credentials adds socket= (VIRTDECK_DEMO_LIBVIRT_SOCKET)
# Where older versions served the demo host: the lab libvirtd's TCP port, open to every local user.
OLD_DEMO_URI = "test+tcp://127.0.0.1:16509/default"
PY = sys.executable


def say(message):
    print(f"virtdeck: {message}", flush=True)


def ensure_admin():
    User = get_user_model()
    if User.objects.filter(username="admin").exists():
        say("user 'admin' exists (set its password with: .venv/bin/python manage.py changepassword admin)")
        return
    password = os.environ.get("VIRTDECK_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    User.objects.create_superuser("admin", "", password)
    if os.environ.get("VIRTDECK_ADMIN_PASSWORD"):
        say("created user 'admin' with the password from VIRTDECK_ADMIN_PASSWORD")
    else:
        say(f"created user 'admin' with password: {password}")


def start_demo_libvirtd(supervisor):
    """The private libvirtd of the demo host, and the connection that keeps its state. False if it failed."""
    if not shutil.which("libvirtd"):
        say("libvirtd is not installed, so no demo host (apt-get install libvirt-daemon-system)")
        return False
    supervisor.start("demo-libvirtd", demo_libvirtd.argv(DEMO_DIR))
    try:
        daemons.wait_for(lambda: subprocess.run(["virsh", "-q", "-c", demo_libvirtd.uri(DEMO_DIR), "uri"],
                                                capture_output=True).returncode == 0, 30, interval=0.2,
                         what="the demo libvirtd to answer")
    except daemons.ServiceError:
        say(f"the demo libvirtd did not answer, so no demo host; see {DEMO_DIR / 'libvirtd.log'}")
        return False
    supervisor.start("demo-keeper", demo_libvirtd.keeper_argv(DEMO_DIR))
    return True


def ensure_demo_host():
    from hosts.models import Host
    from hosts.services import create_host
    from virt.errors import VirtError

    if Host.objects.filter(name="demo", uri=OLD_DEMO_URI).update(uri=DEMO_URI):
        say(f"the demo host moved to the private demo libvirtd ({DEMO_URI})")
    if Host.objects.exists():
        return
    try:
        create_host(Host(name="demo", uri=DEMO_URI,
                         description="libvirt's test driver, served by make run's private libvirtd"))
        say(f"registered the demo host ({DEMO_URI})")
    except VirtError as exc:
        say(f"could not register the demo host: {exc.message}")


def commands(run_dir, pid=None):
    """(name, argv) of every process `make run` supervises."""
    pid = pid or os.getpid()
    celery = [PY, "-m", "celery", "-A", "virtdeck"]
    return [
        ("web", [PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(PORT), "virtdeck.asgi:application"]),
        # Jobs (the default "celery" queue): long work.
        ("worker", [*celery, "worker", "-l", "warning", "--concurrency", "2", "-n", f"worker-{pid}@%h"]),
        # Inventory syncs and the reaper (settings.CELERY_TASK_ROUTES): never behind a long job.
        # Threads: syncs wait on hosts, not on the CPU, and a hung host must not hold up the others.
        ("inventory", [*celery, "worker", "-l", "warning", "-Q", "inventory", "--pool", "threads", "--concurrency", "8",
                       "-n", f"inventory-{pid}@%h"]),
        ("beat", [*celery, "beat", "-l", "warning", "--schedule", str(Path(run_dir) / "celerybeat-schedule")]),
        ("watcher", [PY, "manage.py", "watch_hosts"]),
    ]


def make_database_private(database):
    """The database holds session keys and API tokens: 0600. SQLite gives its -wal and -shm files the
    database file's own mode, so they follow. The umask covers a new database; this one from an older run."""
    if not database["ENGINE"].endswith("sqlite3"):
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{database['NAME']}{suffix}")
        if path.exists():
            path.chmod(0o600)


def main():
    os.umask(0o077)  # everything `make run` writes under var/ (database, schedule, pidfiles) is private
    make_database_private(settings.DATABASES["default"])
    run_dir = Path(settings.RUN_DIR)
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    call_command("migrate", "--noinput", verbosity=0)
    ensure_admin()

    supervisor = daemons.Supervisor(run_dir, cwd=ROOT, say=say)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        redis_socket = run_dir / "redis.sock"
        if not daemons.redis_ping(redis_socket):  # one that answers already is not ours to supervise
            supervisor.start("redis", daemons.redis_argv(run_dir))
            daemons.wait_for(lambda: daemons.redis_ping(redis_socket), 10, what="redis to answer")
        if start_demo_libvirtd(supervisor):
            ensure_demo_host()
        for name, argv in commands(run_dir):
            supervisor.start(name, argv)
        say(f"serving http://127.0.0.1:{PORT}/ (Ctrl+C stops everything)")
        supervisor.run(stop)
    finally:
        say("stopping")
        supervisor.stop([name for name in supervisor.children if name != "redis"])
        supervisor.stop()  # Redis last: the others flush to it while they stop
        say("stopped")


if __name__ == "__main__":
    main()
