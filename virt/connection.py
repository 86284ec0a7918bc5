"""Connection pool: one libvirt connection per host per process.

- libvirt's default event loop runs in a daemon thread, registered before any
  connection opens (keepalive and events need it).
- Keepalive (5 s x 3) lets libvirt notice a silent peer; a close callback marks
  the connection dead; the next call reopens it, with exponential backoff
  after failures so a dead host is not hammered and fails fast.
- Every open and every call runs in its own daemon thread and is bounded by a
  timeout, so a hung host cannot hang a request, a worker or process exit. A
  timed-out call marks its host unreachable; its thread ends when keepalive
  closes the connection. An open that hangs (a peer that accepts TCP and never
  answers: keepalive only starts after the open) is waited for by nobody after
  its timeout, and no second open starts behind it.
- Closing a connection sends an RPC too: it always happens in the background.
"""
import logging
import os
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import libvirt

from .errors import HostUnreachable, VirtError, translate

log = logging.getLogger(__name__)

KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
# libvirt's libssh client (9.0 and later) leaves the rest of a multi-KiB reply in
# libssh's buffer until the next keepalive tick: a 1 s tick bounds that stall
# (5 s otherwise); 15 ticks keep the same 15 s dead-peer detection.
LIBSSH_KEEPALIVE = (1, 15)
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0

_loop_lock = threading.Lock()
_loop_pid = None


def _silence(_ctx, _err):
    """libvirt prints every error to stderr by default; we raise them instead."""


def ensure_event_loop():
    """Register libvirt's default event implementation and run it in a thread (once per process)."""
    global _loop_pid
    with _loop_lock:
        if _loop_pid == os.getpid():
            return
        libvirt.registerErrorHandler(_silence, None)
        if _loop_pid is None:
            libvirt.virEventRegisterDefaultImpl()
        _loop_pid = os.getpid()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()


def in_thread(fn, *args):
    """Run fn(*args) in a new daemon thread; return a Future of its result."""
    future = Future()

    def run():
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            future.set_exception(exc)

    threading.Thread(target=run, name="libvirt-call", daemon=True).start()
    return future


@dataclass(frozen=True)
class ConnectionSpec:
    """How to reach one host. `key` identifies it in the pool (e.g. the host's id).

    `uri` is what libvirt gets (with credential file parameters); `display` is the
    URI as the user wrote it, for messages.
    """

    key: str
    uri: str
    username: str = ""
    password: str = ""
    display: str = ""

    @property
    def name(self):
        return self.display or self.uri

    def __repr__(self):  # never show the password
        return f"ConnectionSpec(key={self.key!r}, uri={self.name!r})"


class _Entry:
    def __init__(self):
        self.lock = threading.Lock()
        self.conn = None
        self.spec = None
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = ""
        self.opening = None  # Future of an open in progress
        self.opening_spec = None  # what that open connects to
        self.opening_stalled = False  # that open already timed out once


def open_connection(spec):
    """Open a connection with a credential callback for SASL username/password."""

    def request_cred(credentials, _data):
        for cred in credentials:
            if cred[0] == libvirt.VIR_CRED_AUTHNAME:
                cred[4] = spec.username or cred[3]
            elif cred[0] == libvirt.VIR_CRED_PASSPHRASE:
                cred[4] = spec.password
            else:
                cred[4] = cred[3]
        return 0

    ensure_event_loop()  # keepalive and events need it registered before the open
    auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], request_cred, None]
    try:
        conn = libvirt.openAuth(spec.uri, auth, 0)
    except libvirt.libvirtError as exc:
        raise translate(exc, opening=True) from None
    interval, count = LIBSSH_KEEPALIVE if spec.uri.startswith("qemu+libssh:") else (KEEPALIVE_INTERVAL,
                                                                                      KEEPALIVE_COUNT)
    try:
        conn.setKeepAlive(interval, count)
    except libvirt.libvirtError:
        pass  # in-process drivers (test:///) have no keepalive
    return conn


def close_quietly(conn):
    """Close in the background: a close is an RPC, and the peer may be hung."""

    def close():
        try:
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    in_thread(close)


def _close_result(future):
    """Done-callback for an abandoned open: close what it opened, if anything."""
    if not future.cancelled() and future.exception() is None:
        close_quietly(future.result())


def _alive(conn):
    try:
        return conn.isAlive() == 1  # a local flag: no RPC
    except libvirt.libvirtError:
        return False


class Pool:
    def __init__(self, call_timeout=10.0, connect_timeout=5.0):
        ensure_event_loop()
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self._entries = {}
        self._lock = threading.Lock()

    def _entry(self, key):
        with self._lock:
            return self._entries.setdefault(key, _Entry())

    def _mark_dead(self, entry, conn, reason):
        with entry.lock:
            if conn is not None and entry.conn is not conn:
                return  # already replaced
            old, entry.conn = entry.conn, None
            entry.failures += 1
            entry.last_error = reason
            entry.retry_at = time.monotonic() + min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (entry.failures - 1))
        if old is not None:
            close_quietly(old)

    def _start_open(self, entry, spec):
        """Called with entry.lock held: the future of an open of `spec` (existing or new)."""
        if entry.opening is not None and entry.opening_spec != spec:
            # The host was edited while an open of its old URI was pending: never adopt that one.
            entry.opening.add_done_callback(_close_result)
            entry.opening, entry.opening_stalled = None, False
        if entry.opening is not None and entry.opening_stalled and not entry.opening.done():
            # An earlier open is still hanging: do not pile up threads behind it.
            raise HostUnreachable(entry.last_error or "host unreachable")
        if entry.opening is None:
            if time.monotonic() < entry.retry_at:
                raise HostUnreachable(entry.last_error or "host unreachable")
            entry.opening, entry.opening_spec, entry.opening_stalled = in_thread(open_connection, spec), spec, False
        return entry.opening

    def _connect(self, spec, entry):
        with entry.lock:
            if entry.conn is not None and entry.spec == spec:
                return entry.conn
            if entry.conn is not None:  # spec changed (host edited): drop the old one
                close_quietly(entry.conn)
                entry.conn = None
            opening = self._start_open(entry, spec)
        try:
            conn = opening.result(timeout=self.connect_timeout)
        except FutureTimeout:
            reason = f"no answer from {spec.name} within {self.connect_timeout:g} s"
            with entry.lock:
                if entry.opening is opening:
                    entry.opening_stalled = True
            self._mark_dead(entry, None, reason)
            raise HostUnreachable(reason) from None
        except VirtError as exc:
            with entry.lock:
                if entry.opening is opening:
                    entry.opening = None
            self._mark_dead(entry, None, exc.message)
            raise
        with entry.lock:
            if entry.opening is opening:
                entry.opening = None
                entry.conn, entry.spec = conn, spec
                entry.failures, entry.last_error, entry.retry_at = 0, "", 0.0

                def on_close(_conn, reason, _opaque, entry=entry, conn=conn):
                    self._mark_dead(entry, conn, f"connection closed by libvirt (reason {reason})")

                try:
                    conn.registerCloseCallback(on_close, None)
                except libvirt.libvirtError:
                    pass
            if entry.conn is conn:
                return conn
        raise HostUnreachable(f"the connection to {spec.name} was replaced while it opened; try again")

    def call(self, spec, fn, timeout=None):
        """Run fn(conn) for the host of `spec`, bounded by `timeout` seconds.

        libvirtError raised by fn is translated into virt.errors; a timeout or a
        broken connection raises HostUnreachable and marks the host dead. Other
        errors (a missing disk, a bad XML) leave the connection as it is.
        """
        entry = self._entry(spec.key)
        conn = self._connect(spec, entry)
        timeout = self.call_timeout if timeout is None else timeout

        def run():
            try:
                return fn(conn)
            except libvirt.libvirtError as exc:
                raise translate(exc) from None

        future = in_thread(run)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            reason = f"{spec.name} did not answer within {timeout:g} s"
            self._mark_dead(entry, conn, reason)
            raise HostUnreachable(reason) from None
        except HostUnreachable as exc:
            self._mark_dead(entry, conn, exc.message)
            raise
        except VirtError:
            if not _alive(conn):
                self._mark_dead(entry, conn, f"connection to {spec.name} lost")
            raise

    def connection(self, spec):
        """The live connection itself, for long-lived users such as the event watcher."""
        return self._connect(spec, self._entry(spec.key))

    def reset(self, key):
        """Forget failures and drop the connection so the next call retries now.

        An open that is still hanging stays the one pending: a new one would hang too.
        """
        entry = self._entry(key)
        with entry.lock:
            old, entry.conn = entry.conn, None
            entry.failures, entry.retry_at = 0, 0.0
            if entry.opening is not None and entry.opening.done():
                entry.opening.add_done_callback(_close_result)
                entry.opening = None
        if old is not None:
            close_quietly(old)

    def discard(self, key):
        """Forget a host entirely (a removed host, a finished probe)."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is not None:
            self._release(entry)

    @staticmethod
    def _release(entry):
        with entry.lock:
            if entry.conn is not None:
                close_quietly(entry.conn)
                entry.conn = None
            if entry.opening is not None:
                entry.opening.add_done_callback(_close_result)
                entry.opening = None

    def close_all(self):
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            self._release(entry)


_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def get_pool(call_timeout=10.0, connect_timeout=5.0):
    """The process-wide pool (a fresh one after fork: threads do not survive it)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = Pool(call_timeout=call_timeout, connect_timeout=connect_timeout)
            _pool_pid = os.getpid()
        return _pool
