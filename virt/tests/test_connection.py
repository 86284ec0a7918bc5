"""The pool against libvirt's test driver, and against a host that never answers."""
import threading
import time

import libvirt
import pytest

from core.testing import eventually, node_uri
from virt.connection import ConnectionSpec, Pool
from virt.errors import HostUnreachable, InvalidConfig, NotFound, OperationInvalid


@pytest.fixture
def pool():
    p = Pool(call_timeout=1.0, connect_timeout=0.5)
    yield p
    p.close_all()


def test_it_reuses_one_connection_per_host(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    first = pool.call(spec, lambda conn: conn)
    second = pool.call(spec, lambda conn: conn)
    assert first is second
    assert pool.call(spec, lambda conn: sorted(d.name() for d in conn.listAllDomains())) == ["cache1", "db1", "web1"]


def test_it_translates_libvirt_errors(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    with pytest.raises(NotFound, match="Domain not found"):
        pool.call(spec, lambda conn: conn.lookupByName("no-such-vm"))
    with pytest.raises(InvalidConfig):
        pool.call(spec, lambda conn: conn.defineXML("<domain type='test'><name>x</name></domain>"))
    with pytest.raises(OperationInvalid, match="domain is not running"):
        pool.call(spec, lambda conn: conn.lookupByName("db1").destroy())


def test_it_reports_a_refused_connection_verbatim(pool):
    spec = ConnectionSpec(key="b", uri="qemu+tcp://127.0.0.1:1/system")
    with pytest.raises(HostUnreachable, match="Connection refused"):
        pool.call(spec, lambda conn: conn.getHostname())


def test_it_bounds_a_host_that_never_answers_and_then_fails_fast(pool, silent_port):
    spec = ConnectionSpec(key="dead", uri=f"qemu+tcp://127.0.0.1:{silent_port}/system")
    started = time.monotonic()
    with pytest.raises(HostUnreachable, match="no answer"):
        pool.call(spec, lambda conn: conn.getHostname())
    first = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(HostUnreachable):
        pool.call(spec, lambda conn: conn.getHostname())
    second = time.monotonic() - started
    assert first < 5 and second < first  # bounded, then answered from the backoff state
    # A healthy host in the same pool is unaffected.
    healthy = ConnectionSpec(key="ok", uri=node_uri("small"))
    assert pool.call(healthy, lambda conn: conn.getHostname())


def test_it_bounds_a_call_that_hangs(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    release = threading.Event()
    with pytest.raises(HostUnreachable, match="did not answer within"):
        pool.call(spec, lambda conn: release.wait(5), timeout=0.2)
    release.set()


def test_it_reopens_after_reset(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    pool.call(spec, lambda conn: conn.lookupByName("web1").destroy())
    pool.reset("a")
    # A new connection to a node fixture is a fresh copy: web1 runs again.
    assert pool.call(spec, lambda conn: conn.lookupByName("web1").isActive()) == 1


def test_it_passes_sasl_credentials_to_the_callback(monkeypatch, pool):
    seen = {}

    def fake_open_auth(uri, auth, flags):
        creds = [[libvirt.VIR_CRED_AUTHNAME, "user", "", "", None], [libvirt.VIR_CRED_PASSPHRASE, "pw", "", "", None]]
        auth[1](creds, auth[2])
        seen.update(user=creds[0][4], password=creds[1][4])
        return libvirt.open(node_uri("small"))

    monkeypatch.setattr(libvirt, "openAuth", fake_open_auth)
    spec = ConnectionSpec(key="sasl", uri="qemu+tcp://kvm1/system", username="virtdeck", password="s3cret")
    pool.call(spec, lambda conn: conn.getHostname())
    assert seen == {"user": "virtdeck", "password": "s3cret"}
    assert "s3cret" not in repr(spec)


def test_it_keeps_a_healthy_connection_after_an_ordinary_system_error(pool):
    from virt.errors import OperationFailed

    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    first = pool.call(spec, lambda conn: conn)
    with pytest.raises(OperationFailed, match="No such file or directory"):
        pool.call(spec, lambda conn: conn.lookupByName("web1").save("/nonexistent/dir/web1.save"))
    assert pool.call(spec, lambda conn: conn) is first  # not marked dead, no backoff


def test_it_never_adopts_an_open_of_a_uri_that_was_edited_away(pool, silent_port):
    old = ConnectionSpec(key="h", uri=f"qemu+tcp://127.0.0.1:{silent_port}/system")
    with pytest.raises(HostUnreachable):
        pool.call(old, lambda conn: conn.getHostname())
    new = ConnectionSpec(key="h", uri=node_uri("small"))
    pool.reset("h")
    assert pool.call(new, lambda conn: conn.getURI()) == node_uri("small")


def test_it_starts_no_second_open_behind_a_hanging_one(pool, silent_port):
    spec = ConnectionSpec(key="dead", uri=f"qemu+tcp://127.0.0.1:{silent_port}/system")
    before = set(threading.enumerate())
    for _ in range(4):
        pool.reset("dead")  # what Refresh and host edits do
        with pytest.raises(HostUnreachable):
            pool.call(spec, lambda conn: conn.getHostname())
    openers = [t for t in set(threading.enumerate()) - before if t.name == "libvirt-call" and t.is_alive()]
    assert len(openers) == 1


def test_it_lets_a_process_exit_while_an_open_hangs(silent_port, tmp_path):
    """libvirt's open never returns from a silent peer; its thread must not keep the process alive."""
    import subprocess
    import sys

    script = (
        "from virt.connection import ConnectionSpec, Pool\n"
        "from virt.errors import HostUnreachable\n"
        "pool = Pool(call_timeout=1, connect_timeout=0.5)\n"
        f"spec = ConnectionSpec(key='d', uri='qemu+tcp://127.0.0.1:{silent_port}/system')\n"
        "try:\n    pool.call(spec, lambda conn: conn.getHostname())\n"
        "except HostUnreachable as exc:\n    print('unreachable:', exc)\n"
    )
    from django.conf import settings

    result = subprocess.run([sys.executable, "-c", script], cwd=settings.BASE_DIR, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "unreachable: no answer from" in result.stdout


@pytest.fixture
def closes(monkeypatch):
    """The raw libvirt connections the pool closed, in order."""
    from virt import connection

    closed = []
    real_close = connection._close

    def recording_close(conn):
        closed.append(conn)
        real_close(conn)

    monkeypatch.setattr(connection, "_close", recording_close)
    return closed


def test_it_closes_a_timed_out_connection_only_after_its_abandoned_call_returns(pool, closes):
    """libvirt takes no reference for a call in progress: closing under one is a use-after-free."""
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    release, finished = threading.Event(), threading.Event()

    def slow(conn):
        release.wait(10)
        result = conn.getHostname()  # the connection must still be open here
        finished.set()
        return result

    first = pool.call(spec, lambda conn: conn)
    with pytest.raises(HostUnreachable, match="did not answer within"):
        pool.call(spec, slow, timeout=0.2)
    pool.reset("a")  # skip the backoff: a new connection serves while the old one is retired
    assert pool.call(spec, lambda conn: conn) is not first
    assert closes == []  # the abandoned call still runs on `first`
    release.set()
    assert finished.wait(5)
    eventually(lambda: closes == [first], message="retired connection closed after its last call")


def test_it_runs_one_call_at_a_time_on_a_connection(pool):
    """libvirt 9.0's client crashes when keepalive tears down a connection several threads wait on."""
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    running, most = [0], [0]
    lock = threading.Lock()

    def call(conn):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)  # hold the connection long enough for the others to pile up
        with lock:
            running[0] -= 1
        return conn.getHostname()

    threads = [threading.Thread(target=pool.call, args=(spec, call)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_it_drops_calls_still_queued_on_a_connection_that_died(pool, closes):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    started, release = threading.Event(), threading.Event()
    ran = []
    first = pool.call(spec, lambda conn: conn)

    def block(conn):
        started.set()
        release.wait(10)

    blocker = threading.Thread(target=lambda: pytest.raises(HostUnreachable, pool.call, spec, block, timeout=0.5))
    blocker.start()
    assert started.wait(5)
    # Queued behind the blocker on the same connection; it times out too and must never run.
    with pytest.raises(HostUnreachable):
        pool.call(spec, lambda conn: ran.append(conn), timeout=0.3)
    blocker.join()
    release.set()
    eventually(lambda: closes == [first], message="retired connection closed")
    assert ran == []


def test_it_reports_a_backoff_failure_as_observed_when_it_happened(pool):
    spec = ConnectionSpec(key="b", uri="qemu+tcp://127.0.0.1:1/system")
    with pytest.raises(HostUnreachable) as fresh:
        pool.call(spec, lambda conn: conn.getHostname())
    time.sleep(0.05)  # a measurable gap between the failure and its repetition from the backoff state
    with pytest.raises(HostUnreachable) as repeated:
        pool.call(spec, lambda conn: conn.getHostname())
    assert repeated.value.message == fresh.value.message
    assert repeated.value.observed_at == fresh.value.observed_at


def test_it_runs_a_long_operation_on_its_own_connection_while_short_calls_go_on(pool, closes):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    shared = pool.call(spec, lambda conn: conn)
    release = threading.Event()
    seen, polls = {}, []

    def long_operation(conn):
        seen["conn"] = conn
        release.wait(10)
        return conn.lookupByName("web1").name()

    def poll():
        # The shared connection answers while the long operation holds its own.
        polls.append(pool.call(spec, lambda conn: conn.lookupByName("db1").name()))
        if len(polls) == 3:
            release.set()

    # Longer than the pool's call timeout (1 s): still no "host dead".
    assert pool.run_long(spec, long_operation, poll=poll, interval=0.4) == "web1"
    assert polls == ["db1"] * 3
    assert seen["conn"] is not shared
    eventually(lambda: seen["conn"] in closes, message="the long operation's connection closed")
    assert pool.call(spec, lambda conn: conn) is shared  # not marked dead, not replaced


def test_it_cancels_a_long_operation_once(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    stop, cancels = threading.Event(), []

    def on_cancel():
        cancels.append(1)
        stop.set()  # what abortJob does to a migration: the operation ends

    result = pool.run_long(spec, lambda conn: stop.wait(10), cancelled=lambda: True, on_cancel=on_cancel,
                           interval=0.05)
    assert result is True and cancels == [1]


def test_it_translates_errors_of_a_long_operation_and_bounds_its_wait(pool):
    spec = ConnectionSpec(key="a", uri=node_uri("small"))
    with pytest.raises(NotFound):
        pool.run_long(spec, lambda conn: conn.lookupByName("no-such-vm"))
    release = threading.Event()
    with pytest.raises(HostUnreachable, match="did not finish within"):
        pool.run_long(spec, lambda conn: release.wait(10), interval=0.05, timeout=0.3)
    release.set()
    assert pool.call(spec, lambda conn: conn.getHostname())  # the host is not marked dead
