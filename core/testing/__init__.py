"""Test helpers shared by every app: personas, node fixtures, waiting, app processes.

Standard tests of the generic pages and viewsets: core/testing/views.py and core/testing/api.py. Websockets as
a page opens them: core/testing/websockets.py.
"""
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

NODES = Path(__file__).resolve().parent / "nodes"
PASSWORD = "correct-horse-battery"


def node_uri(name):
    """test:///abs/path URI of a node fixture: each connection gets a private copy."""
    path = NODES / f"{name}.xml"
    if not path.exists():
        raise FileNotFoundError(path)
    return f"test://{path}"


def eventually(check, timeout=5.0, interval=0.05, message="condition not met"):
    """Poll `check` until it returns a truthy value; return it or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} within {timeout:g} s (last: {last!r})")


def fleet_node_xml(count, running_every=2, prefix="vm"):
    """Node XML with `count` test-driver domains (every `running_every`-th running, the rest shut off)."""
    from lxml import etree

    ns = "http://libvirt.org/schemas/domain/test/1.0"
    node = etree.Element("node")
    cpu = etree.SubElement(node, "cpu")
    for tag, value in (("nodes", 1), ("sockets", 2), ("cores", 8), ("threads", 2), ("active", 32),
                       ("mhz", 2400), ("model", "x86_64")):
        etree.SubElement(cpu, tag).text = str(value)
    etree.SubElement(node, "memory").text = str(256 * 1024 * 1024)
    for i in range(count):
        dom = etree.SubElement(node, "domain", type="test", nsmap={"test": ns})
        etree.SubElement(dom, "name").text = f"{prefix}{i:04d}"
        etree.SubElement(dom, "uuid").text = f"00000000-0000-4000-8000-{i:012d}"
        etree.SubElement(dom, "memory").text = str(262144 * (1 + i % 4))
        etree.SubElement(dom, "vcpu").text = str(1 + i % 4)
        os_el = etree.SubElement(dom, "os")
        etree.SubElement(os_el, "type").text = "hvm"
        if i % running_every:
            etree.SubElement(dom, f"{{{ns}}}runstate").text = "5"
    return etree.tostring(node, pretty_print=True, encoding="unicode")


def random_file(path, size):
    """Fill `path` with `size` bytes (a multiple of 16 MiB) from /dev/urandom; their sha256, hex."""
    block_size = 16 * 2**20
    digest = hashlib.sha256()
    with open(path, "wb") as out, open("/dev/urandom", "rb") as noise:
        for _ in range(size // block_size):
            block = noise.read(block_size)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def file_sha256(path):
    """The sha256 of the file at `path`, hex."""
    with open(path, "rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict):
    """A DATABASE_URL for the database of `settings_dict` (the test database, once created): SQLite's file or
    PostgreSQL's socket directory or host."""
    from urllib.parse import quote

    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    host = quote(settings_dict["HOST"], safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{quote(settings_dict['USER'], safe='')}@{host}{port}/{quote(settings_dict['NAME'], safe='')}"


class AppProcess:
    """One virtdeck process (daphne, a worker, the watcher) on the test database, in its own process group.

    Output goes to <tmp_path>/<name>.log; stop() ends it by the PID in <tmp_path>/<name>.pid.
    """

    def __init__(self, name, argv, tmp_path, env=None):
        from django.conf import settings
        from django.db import connection

        self.name = name
        self.log_path = tmp_path / f"{name}.log"
        self.pidfile = tmp_path / f"{name}.pid"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "virtdeck.test_settings",
               "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
               **(env or {})}
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pidfile.write_text(str(self.proc.pid))

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        return self.log_path.read_text()

    def wait_until(self, check, timeout, what):
        eventually(lambda: check() or self.proc.poll() is not None, timeout=timeout, interval=0.1,
                   message=f"{self.name}: {what}")
        assert self.proc.poll() is None, f"{self.name} exited ({self.proc.returncode}):\n{self.output()}"

    def stop(self):
        from virtdeck import daemons

        if self.proc.poll() is None:
            daemons.stop_pidfile(self.pidfile, timeout=15)
        self.proc.wait(timeout=10)
        self.log.close()


def answers(url):
    """Whether a GET of `url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_daphne(port, tmp_path, name="daphne", env=None):
    """daphne serving virtdeck.asgi on 127.0.0.1:port, with extra `env`, once it answers; an AppProcess."""
    service = AppProcess(name, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "virtdeck.asgi:application"], tmp_path, env=env)
    try:
        service.wait_until(lambda: answers(f"http://127.0.0.1:{port}/login/"), timeout=30, what="answering /login/")
    except BaseException:
        service.stop()
        raise
    return service


@contextlib.contextmanager
def daphne_process(tmp_path, env=None):
    """daphne on a free loopback port, with extra `env`; yields (base URL, AppProcess)."""
    port = free_port()
    service = start_daphne(port, tmp_path, env=env)
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        service.stop()


@contextlib.contextmanager
def ip_forward_kept():
    """Put /proc/sys/net/ipv4/ip_forward back as it was: a NAT network sets it to 1 and leaves it so."""
    path = "/proc/sys/net/ipv4/ip_forward"
    before = open(path).read()
    try:
        yield
    finally:
        with open(path, "w") as handle:
            handle.write(before)


@contextlib.contextmanager
def redis_cleared(prefix):
    """Every key under `prefix` (and `prefix` itself) deleted from virtdeck's Redis before and after: tests share
    one Redis, and ids repeat from one test database to the next."""
    from core import health

    client = health.client()

    def clear():
        client.delete(prefix, *client.keys(f"{prefix}:*"))

    clear()
    try:
        yield client
    finally:
        clear()
