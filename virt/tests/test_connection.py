"""The pool against libvirt's test driver, and against a host that never answers."""
import threading
import time

import libvirt
import pytest

from core.testing import node_uri
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
