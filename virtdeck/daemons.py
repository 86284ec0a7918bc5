"""Start, supervise and stop the local processes virtdeck owns (Redis, and `make run`'s children).

Used by `make run` (scripts/run.py) and by the test suite. Stops only what it
started: the PID comes from our own pidfile or Popen object, never from a process name.
"""
import os
import shutil
import signal
import subprocess
import threading
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
    while not condition():
        if time.monotonic() >= deadline:
            raise ServiceError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


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


def redis_argv(run_dir):
    """redis-server in the foreground on a unix socket in run_dir (no TCP port), nothing saved to disk."""
    server = shutil.which("redis-server")
    if not server:
        raise ServiceError("redis-server is not installed (apt-get install redis-server)")
    run_dir = Path(run_dir)
    return [server, "--port", "0", "--unixsocket", str(run_dir / "redis.sock"), "--unixsocketperm", "700",
            "--dir", str(run_dir), "--save", "", "--appendonly", "no"]


def start_redis(run_dir):
    """A private Redis on a unix socket in run_dir, daemonized. Returns (socket, started_by_us)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    sock, pidfile = run_dir / "redis.sock", run_dir / "redis.pid"
    if redis_ping(sock):
        return sock, False
    subprocess.run(
        [*redis_argv(run_dir), "--daemonize", "yes", "--pidfile", str(pidfile),
         "--logfile", str(run_dir / "redis.log")],
        check=True,
    )
    wait_for(lambda: redis_ping(sock), 10, what="redis to answer")
    return sock, True


def stop_redis(run_dir):
    stop_pidfile(Path(run_dir) / "redis.pid")


def restart_delay(crashes, first=1.0, cap=30.0):
    """Seconds to wait before restarting a child after its `crashes`-th exit in a row: first, 2x, 4x... up to cap."""
    return min(cap, first * 2 ** max(0, crashes - 1))


def _exit_status(proc):
    """The exit code of a child that has exited, without reaping it (None while it runs).

    Unreaped, its PID cannot be reused, so its process group can still be signalled safely.
    """
    if proc.returncode is not None:
        return proc.returncode
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.wait()
    if info is None:
        return None
    return -info.si_status if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED) else info.si_status


def _kill_leftovers(proc):
    """KILL what an exited child left in its own process group (a worker's pool processes), then reap it."""
    if proc.returncode is None:  # not reaped yet: the group id is still ours
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return proc.wait()


class _Child:
    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env
        self.proc = None
        self.started = 0.0
        self.crashes = 0
        self.restart_at = None  # monotonic time of the next start while waiting after a crash


class Supervisor:
    """Runs named children, restarts one that exits (with capped exponential backoff), stops them all by PID.

    Our own rather than a library: honcho and foreman stop everything when one child exits (what
    `make run` did), supervisord and circus are daemons of their own with config files and control
    sockets. `make run` needs a loop over a few Popen objects. Each child runs in its own session
    (Ctrl+C reaches only us) and process group (its leftovers can be cleaned up by group id).
    """

    def __init__(self, run_dir, cwd=None, say=print, first_delay=1.0, max_delay=30.0, stable_after=30.0):
        self.run_dir = Path(run_dir)
        self.cwd = cwd
        self.say = say
        self.first_delay, self.max_delay = first_delay, max_delay
        self.stable_after = stable_after  # a child that ran this long before exiting starts over at first_delay
        self.children = {}

    def pidfile(self, name):
        return self.run_dir / f"{name}.pid"

    def start(self, name, argv, env=None):
        child = self.children[name] = _Child(name, argv, env)
        self._spawn(child)

    def _spawn(self, child):
        proc = subprocess.Popen(child.argv, cwd=self.cwd, env=child.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        self.pidfile(child.name).write_text(str(proc.pid))
        child.proc, child.started, child.restart_at = proc, time.monotonic(), None
        threading.Thread(target=self._relay, args=(child.name, proc), daemon=True).start()

    def _relay(self, name, proc):
        for line in proc.stdout:
            print(f"{name:>9} | {line}", end="", flush=True)

    def poll(self):
        """One round: notice children that exited, restart those whose wait is over."""
        for child in self.children.values():
            now = time.monotonic()
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._spawn(child)
                    self.say(f"restarted {child.name} (pid {child.proc.pid})")
                continue
            code = _exit_status(child.proc)
            if code is None:
                continue
            _kill_leftovers(child.proc)
            child.crashes = 1 if now - child.started >= self.stable_after else child.crashes + 1
            delay = restart_delay(child.crashes, self.first_delay, self.max_delay)
            child.restart_at = now + delay
            self.say(f"{child.name} (pid {child.proc.pid}) exited with {code}; restarting in {delay:g} s")

    def run(self, stop, interval=0.2):
        """poll() until the `stop` event is set."""
        while not stop.wait(interval):
            self.poll()

    def stop(self, names=None, timeout=10):
        """TERM the named children (all by default) at once, KILL what is left after `timeout`."""
        children = [c for name, c in self.children.items() if names is None or name in names]
        running = [c for c in children if c.restart_at is None and _exit_status(c.proc) is None]
        for child in running:  # os.kill, not Popen.send_signal: that would reap it and free its group id
            os.kill(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                wait_for(lambda c=child: _exit_status(c.proc) is not None, max(0.0, deadline - time.monotonic()),
                         what=f"{child.name} to exit")
            except ServiceError:
                self.say(f"{child.name} (pid {child.proc.pid}) did not stop in {timeout:g} s; killing it")
                os.kill(child.proc.pid, signal.SIGKILL)
        for child in children:
            _kill_leftovers(child.proc)
            self.pidfile(child.name).unlink(missing_ok=True)
            del self.children[child.name]


POSTGRES_USER = "virtdeck"  # the superuser initdb creates; trust auth on the private unix socket only


def postgres_bin(name):
    """A PostgreSQL server program: Debian keeps them out of PATH, in /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise ServiceError("PostgreSQL is not installed (apt-get install postgresql)")
    return str(candidates[-1])


def _as_postgres_owner():
    """subprocess arguments that drop root to the `postgres` system user: the server refuses to run as root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def postgres_ping(socket_dir, port=5432):
    import psycopg

    try:
        with psycopg.connect(host=str(socket_dir), port=port, user=POSTGRES_USER, dbname="postgres",
                             connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


def start_postgres(data_dir, port=5432):
    """A private PostgreSQL in data_dir listening only on a unix socket there. Returns (socket dir, started_by_us).

    initdb on first use; tuned for throwaway test data (no fsync). The port only names the socket file.
    """
    data_dir = Path(data_dir)
    if postgres_ping(data_dir, port):
        return data_dir, False
    owner = _as_postgres_owner()
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if owner:
            shutil.chown(data_dir, owner["user"], owner["group"])
        subprocess.run([postgres_bin("initdb"), "-D", str(data_dir), "-U", POSTGRES_USER, "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, **owner)
        if "'" in str(data_dir):
            raise ServiceError(f"a quote in {data_dir} cannot be written to postgresql.conf")
        with open(data_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = ''\nunix_socket_directories = '{data_dir}'\nport = {port}\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n")
    subprocess.run([postgres_bin("pg_ctl"), "-D", str(data_dir), "-l", str(data_dir / "server.log"), "-w",
                    "-t", "60", "start"], check=True, capture_output=True, **owner)
    wait_for(lambda: postgres_ping(data_dir, port), 30, what="postgres to answer")
    return data_dir, True


def stop_postgres(data_dir):
    """Fast shutdown of the server whose PID is in data_dir/postmaster.pid (ours), waiting for it to exit."""
    pidfile = Path(data_dir) / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return
    if pid_alive(pid):
        os.kill(pid, signal.SIGINT)  # postgres: SIGINT is "fast" shutdown (clients disconnected)
        try:
            wait_for(lambda: not pid_alive(pid), 30, what=f"postgres (pid {pid}) to exit")
        except ServiceError:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not pid_alive(pid), 5, what=f"postgres (pid {pid}) to die")
