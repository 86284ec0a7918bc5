"""Start and stop the local helper daemons virtdeck owns (Redis), by pidfile.

Used by `make run` (scripts/run.py) and by the test suite. Stops only what it
started: the PID comes from our own pidfile, never from a process name.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def pid_alive(pid):
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def read_pid(pidfile):
    try:
        return int(Path(pidfile).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def wait_for(condition, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise ServiceError(f"timed out after {timeout:g} s waiting for {what}")


def stop_pidfile(pidfile, timeout=10):
    """TERM the process named in our pidfile, KILL it after `timeout`, remove the pidfile."""
    pid = read_pid(pidfile)
    if pid and pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        try:
            wait_for(lambda: not pid_alive(pid), timeout, what=f"pid {pid} to exit")
        except ServiceError:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), 5, what=f"pid {pid} to die")
    Path(pidfile).unlink(missing_ok=True)


def redis_ping(socket_path):
    import redis

    try:
        return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def start_redis(run_dir):
    """A private Redis on a unix socket in run_dir (no TCP port). Returns (socket, started_by_us)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sock, pidfile = run_dir / "redis.sock", run_dir / "redis.pid"
    if redis_ping(sock):
        return sock, False
    server = shutil.which("redis-server")
    if not server:
        raise ServiceError("redis-server is not installed (apt-get install redis-server)")
    subprocess.run(
        [server, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--daemonize", "yes", "--pidfile", str(pidfile), "--dir", str(run_dir),
         "--save", "", "--appendonly", "no", "--logfile", str(run_dir / "redis.log")],
        check=True,
    )
    wait_for(lambda: redis_ping(sock), 10, what="redis to answer")
    return sock, True


def stop_redis(run_dir):
    stop_pidfile(Path(run_dir) / "redis.pid")
