"""Suite-wide fixtures: personas, clients, hosts on libvirt's test driver, Redis, the lab."""
import fcntl
import fnmatch
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from core.testing import PASSWORD, node_uri
from virtdeck import daemons

ROOT = Path(__file__).resolve().parent

# Every list, count and sync query (inventory syncs, list pages and APIs, filter sets, sorting, jobs, the
# watcher's leases): `make test` runs these modules a second time on PostgreSQL, the production database.
POSTGRES_SUBSET = (
    "core/tests/test_generic.py", "core/tests/test_page_size.py", "core/tests/test_sorting.py",
    "core/tests/test_list_queries.py", "core/tests/test_jobs.py", "core/tests/test_job_*.py",
    "core/tests/test_standard.py", "core/tests/test_postgres.py",
    "hosts/tests/test_api.py", "hosts/tests/test_views.py", "hosts/tests/test_host_counts.py",
    "hosts/tests/test_standard.py", "hosts/tests/test_services.py", "hosts/tests/test_stale.py",
    "hosts/tests/test_watcher*.py", "hosts/tests/test_leases.py",
    "instances/tests/test_inventory.py", "instances/tests/test_views.py", "instances/tests/test_api.py",
    "instances/tests/test_standard.py", "instances/tests/test_sync_race.py", "instances/tests/test_list_order.py",
    "instances/tests/test_migration_inventory.py", "instances/tests/test_lifecycle_bulk.py",
    "instances/tests/test_totals.py", "dashboard/tests/test_views.py",
    "networks/tests/test_inventory.py", "networks/tests/test_views.py", "networks/tests/test_api.py",
    "storage/tests/test_inventory.py", "storage/tests/test_views.py", "storage/tests/test_api.py",
    "storage/tests/test_standard.py", "storage/tests/test_events.py",
    "audit/tests/test_audit.py", "audit/tests/test_standard.py", "access/tests/test_standard.py",
    "metrics/tests/test_store.py", "metrics/tests/test_migrated_series.py",
)


@pytest.fixture(scope="session", autouse=True)
def one_session_per_state_dir():
    """Two pytest runs on one state dir would share a database file, Redis and the lab: run one at a time.

    Set VIRTDECK_STATE_DIR to run a second session in parallel on its own state.
    """
    Path(settings.STATE_DIR).mkdir(parents=True, exist_ok=True)
    with open(Path(settings.STATE_DIR) / "pytest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session", autouse=True)
def redis_server(one_session_per_state_dir):
    """A private Redis for Channels and Celery, started once for the suite if none answers."""
    run_dir = settings.RUN_DIR
    sock, started = daemons.start_redis(run_dir)
    yield sock
    if started:
        daemons.stop_redis(run_dir)


@pytest.fixture(scope="session")
def postgres_server(one_session_per_state_dir):
    """The suite's own PostgreSQL when the settings point at it (VIRTDECK_TEST_DATABASE=postgresql): started
    once if it does not answer, stopped at the end only if this session started it."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql" or database["HOST"] != str(settings.TEST_POSTGRES_DIR):
        yield None
        return
    socket_dir, started = daemons.start_postgres(settings.TEST_POSTGRES_DIR)
    yield socket_dir
    if started:
        daemons.stop_postgres(settings.TEST_POSTGRES_DIR)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, postgres_server):
    """pytest-django's hook before the test database is created: the server must answer by then."""


def pytest_collection_modifyitems(items):
    """Mark the tests of POSTGRES_SUBSET `postgres`: `make test` runs them again on PostgreSQL."""
    for item in items:
        path = Path(str(item.fspath)).relative_to(ROOT).as_posix()
        if any(fnmatch.fnmatch(path, pattern) for pattern in POSTGRES_SUBSET):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters (the token endpoint's 10/min) live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: LocaleMiddleware leaves a request's language active on the
    thread, so a test that asked in Vietnamese would otherwise hand it to the next one."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_pool():
    """Each test gets new libvirt connections (a node fixture's state is per connection)."""
    from hosts.connection import pool

    pool().close_all()
    yield
    pool().close_all()


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.org", PASSWORD)


@pytest.fixture
def member(django_user_model):
    """An ordinary logged-in user (not staff)."""
    return django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def api(admin_user):
    from rest_framework.test import APIClient

    api_client = APIClient()
    api_client.force_authenticate(admin_user)
    return api_client


@pytest.fixture
def make_host(db):
    """Register a host through the service (connects first), on a node fixture by default."""
    from hosts.models import Host
    from hosts.services import create_host

    def make(name="small", uri=None, **fields):
        return create_host(Host(name=fields.pop("host_name", name), uri=uri or node_uri(name), **fields))

    return make


@pytest.fixture
def node_dir(settings, tmp_path):
    """A directory of the test's own, allowed for test-driver node files besides the suite's fixtures."""
    directory = tmp_path / "nodes"
    directory.mkdir()
    settings.VIRTDECK_TEST_NODE_DIRS = [*settings.VIRTDECK_TEST_NODE_DIRS, str(directory)]
    return directory


@pytest.fixture(scope="session")
def lab():
    """The real libvirtd + QEMU (TCG) lab: started if it is not up, stopped at the end if we started it."""
    status = subprocess.run([str(ROOT / "lab" / "status")], capture_output=True, text=True)
    started = status.returncode != 0
    if started:
        up = subprocess.run([str(ROOT / "lab" / "up")], capture_output=True, text=True)
        if up.returncode != 0:
            pytest.fail(f"lab/up failed:\n{up.stdout}\n{up.stderr}")
    port = os.environ.get("LAB_TCP_PORT", "16509")
    tls_port = os.environ.get("LAB_TLS_PORT", "16514")
    lab_dir = os.environ.get("LAB_DIR") or str(ROOT / "var" / "lab")  # as lab/lib.sh
    yield {"uri": f"qemu+tcp://127.0.0.1:{port}/system", "test_uri": f"test+tcp://127.0.0.1:{port}/default",
           "port": int(port), "tls_port": int(tls_port), "dir": lab_dir}
    if started:
        subprocess.run([str(ROOT / "lab" / "down")], capture_output=True, text=True)


@pytest.fixture(scope="session")
def two_hosts():
    """The two-host lab (lab/hosts): started if it is not up, stopped at the end if we started it.

    Two libvirtd hosts in network namespaces, reached over TCP like real ones; see lab/hosts.
    """
    script = str(ROOT / "lab" / "hosts")
    started = subprocess.run([script, "status"], capture_output=True, text=True).returncode != 0
    if started:
        up = subprocess.run([script, "up"], capture_output=True, text=True)
        if up.returncode != 0:
            pytest.fail(f"lab/hosts up failed:\n{up.stdout}\n{up.stderr}")
    hosts_dir = Path(os.environ.get("LAB_DIR") or ROOT / "var" / "lab") / "hosts"  # as lab/hosts
    ssh_dir = hosts_dir / "ssh"
    yield {
        "a": {"name": "hostA", "address": "10.77.0.1", "uri": "qemu+tcp://10.77.0.1/system",
              "images": hosts_dir / "hostA" / "lib" / "images"},
        "b": {"name": "hostB", "address": "10.77.0.2", "uri": "qemu+tcp://10.77.0.2/system",
              "images": hosts_dir / "hostB" / "lib" / "images"},
        "shared": hosts_dir / "shared",
        "ssh_key": ssh_dir / "client_key", "known_hosts": ssh_dir / "known_hosts",
    }
    if started:
        subprocess.run([script, "down"], capture_output=True, text=True)


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never says a word, like a hung libvirtd."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def lab_host(lab, make_host):
    """The lab's libvirtd as a virtdeck host row (synced)."""
    return make_host("lab", uri=lab["uri"])


@pytest.fixture
def watcher():
    """A host watcher that the test drives by hand (rescan, handle, its event queue); its subscriptions closed
    after."""
    from hosts.watcher import Watcher

    idle = Watcher()
    yield idle
    for subscription in idle.subscriptions.values():
        subscription.close()


@pytest.fixture
def running_watcher(lab_host):
    """The host watcher running in its own thread, as watch_hosts runs it, once it has subscribed to the lab."""
    import threading

    from core.testing import eventually
    from hosts.watcher import Watcher

    running = Watcher(rescan_interval=0.5)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    eventually(lambda: lab_host.pk in running.subscriptions, timeout=10, message="watcher subscribed")
    yield running
    running.stop.set()
    thread.join(timeout=10)


@pytest.fixture
def pool_names(lab):
    """Names for pools this test makes; each is removed (volumes, definition) at the end."""
    import uuid

    import libvirt

    from virt.tests.test_lab_storage import remove_pool

    made = []
    yield lambda: made.append(f"vd-test-{uuid.uuid4().hex[:8]}") or made[-1]
    conn = libvirt.open(lab["uri"])
    for name in made:
        remove_pool(conn, name)
    conn.close()


@pytest.fixture
def lab_guests(lab, tmp_path):
    """Define TCG guests on the lab out of band (plain libvirt, not virtdeck); all removed at the end.

    lab_guests.define(start=True) -> virDomain; lab_guests.conn is the out-of-band connection.
    """
    import uuid

    import libvirt

    from lab import guest

    class Guests:
        conn = libvirt.open(lab["uri"])
        made = []

        def define(self, start=True, prefix="vd-test"):
            name = f"{prefix}-{uuid.uuid4().hex[:8]}"
            dom = self.conn.defineXML(guest.domain_xml(name, guest.make_disk(tmp_path, name)))
            self.made.append(dom)
            if start:
                dom.create()
            return dom

    guests = Guests()
    yield guests
    for dom in guests.made:
        guest.remove(guests.conn, dom.name())  # a test that failed halfway may leave a saved state or snapshots
    guests.conn.close()


@pytest.fixture
def personas(make_host):
    """admin, operator (granted one VM), outsider and their objects: see core/testing/personas.py."""
    from types import SimpleNamespace

    from core.testing.personas import make_personas

    return SimpleNamespace(**make_personas(make_host))
