"""Connection pool: one libvirt connection per host per process.

- libvirt's default event loop runs in a daemon thread, registered before any
  connection opens (keepalive and events need it). It is never stopped.
- Keepalive (5 s x 3) lets libvirt notice a silent peer; a close callback marks
  the connection dead; the next call reopens it, with exponential backoff
  after failures so a dead host is not hammered and fails fast.
- Every open and every call runs in its own daemon thread and is bounded by a
  timeout, so a hung host cannot hang a request, a worker or process exit. A
  timed-out call marks its host unreachable; its thread ends when keepalive
  closes the connection. An open that hangs (a peer that accepts TCP and never
  answers: keepalive only starts after the open) is waited for by nobody after
  its timeout, and no second open starts behind it.
- One call at a time per connection, and a connection is closed only once no
  call runs on it. libvirt 9.0's RPC client crashes (SIGSEGV, "not a
  virObjectLockable instance") when keepalive tears down a connection that
  several threads are waiting on, or when it is closed under a running call:
  both were seen when a frozen host resumed. A dead connection is retired:
  no new calls, calls still queued on it give up, and the last call to
  return closes it in the background (a close is an RPC too).
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
from .i18n import _

log = logging.getLogger(__name__)

KEEPALIVE = (5, 3)  # interval in seconds, missed replies before libvirt closes the connection
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0

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
    keepalive: tuple = KEEPALIVE

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
        self.failed_at = 0.0  # wall clock of the last failure
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
    interval, count = spec.keepalive
    if spec.uri.startswith("qemu+libssh:"):
        # libvirt's libssh client (9.0 and later) leaves the rest of a multi-KiB reply in
        # libssh's buffer until the next keepalive tick: a 1 s tick bounds that stall, with
        # as many ticks as keep the same dead-peer detection time.
        interval, count = 1, interval * count
    try:
        conn.setKeepAlive(interval, count)
    except libvirt.libvirtError:
        pass  # in-process drivers (test:///) have no keepalive
    return conn


def _close(conn):
    """Close a connection nobody else holds (an RPC: run it in a background thread)."""
    for step in (conn.unregisterCloseCallback, conn.close):
        try:
            step()
        except libvirt.libvirtError:
            pass  # already gone


def _close_result(future):
    """Done-callback for an abandoned open: close what it opened, if anything."""
    if not future.cancelled() and future.exception() is None:
        in_thread(_close, future.result())


class _Connection:
    """A pooled connection and the calls on it.

    enter()/leave() bracket every call (leave() in the thread that ran it, so a
    call abandoned by a timeout still counts until it returns); `serial` lets
    one call at a time reach libvirt; retire() refuses new calls, and the
    connection is closed when the last call leaves.
    """

    def __init__(self, conn):
        self.conn = conn
        self.serial = threading.Lock()
        self._lock = threading.Lock()
        self._calls = 0
        self._retired = False

    @property
    def retired(self):
        with self._lock:
            return self._retired

    def enter(self):
        with self._lock:
            if self._retired:
                return False
            self._calls += 1
            return True

    def leave(self):
        with self._lock:
            self._calls -= 1
            close = self._retired and self._calls == 0
        if close:
            _close(self.conn)  # already on a call's own background thread

    def retire(self):
        with self._lock:
            if self._retired:
                return
            self._retired = True
            close = self._calls == 0
        if close:
            in_thread(_close, self.conn)

    @property
    def running_calls(self):
        with self._lock:
            return self._calls


def _alive(conn):
    try:
        return conn.isAlive() == 1  # a local flag: no RPC
    except libvirt.libvirtError:
        return False


class Pool:
    def __init__(self, call_timeout=10.0, connect_timeout=5.0, backoff_max=BACKOFF_MAX):
        ensure_event_loop()
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.backoff_max = backoff_max
        self._entries = {}
        self._lock = threading.Lock()

    def _entry(self, key):
        with self._lock:
            return self._entries.setdefault(key, _Entry())

    def _mark_dead(self, entry, handle, reason, observed_at=None):
        """Record a failure; retire `handle` (or, if None, whatever connection the entry holds)."""
        with entry.lock:
            if handle is not None and entry.conn is not handle:
                return  # already replaced
            old, entry.conn = entry.conn, None
            entry.failures += 1
            entry.last_error = reason
            entry.failed_at = observed_at or time.time()
            entry.retry_at = time.monotonic() + min(self.backoff_max, BACKOFF_FIRST * 2 ** (entry.failures - 1))
        if old is not None:
            old.retire()

    @staticmethod
    def _known_failure(entry):
        """The last failure, raised again without a new try (observed when it happened, not now)."""
        return HostUnreachable(entry.last_error or _("host unreachable"), observed_at=entry.failed_at)

    def _start_open(self, entry, spec):
        """Called with entry.lock held: the future of an open of `spec` (existing or new)."""
        if entry.opening is not None and entry.opening_spec != spec:
            # The host was edited while an open of its old URI was pending: never adopt that one.
            entry.opening.add_done_callback(_close_result)
            entry.opening, entry.opening_stalled = None, False
        if entry.opening is not None and entry.opening_stalled and not entry.opening.done():
            # An earlier open is still hanging: do not pile up threads behind it.
            raise self._known_failure(entry)
        if entry.opening is None:
            if time.monotonic() < entry.retry_at:
                raise self._known_failure(entry)
            entry.opening, entry.opening_spec, entry.opening_stalled = in_thread(open_connection, spec), spec, False
        return entry.opening

    def _connect(self, spec, entry):
        """The entry's connection for `spec`, opened if needed, with one call entered on it."""
        with entry.lock:
            if entry.conn is not None and entry.spec == spec:
                entry.conn.enter()  # cannot fail: a connection is retired only after leaving the entry
                return entry.conn
            if entry.conn is not None:  # spec changed (host edited): drop the old one
                entry.conn.retire()
                entry.conn = None
            opening = self._start_open(entry, spec)
        try:
            conn = opening.result(timeout=self.connect_timeout)
        except FutureTimeout:
            reason = _("no answer from {host} within {seconds:g} s").format(host=spec.name,
                                                                           seconds=self.connect_timeout)
            with entry.lock:
                if entry.opening is opening:
                    entry.opening_stalled = True
            self._mark_dead(entry, None, reason)
            raise HostUnreachable(reason) from None
        except VirtError as exc:
            with entry.lock:
                if entry.opening is opening:
                    entry.opening = None
            self._mark_dead(entry, None, exc.message, exc.observed_at)
            raise
        with entry.lock:
            if entry.opening is opening:
                entry.opening = None
                entry.conn, entry.spec = _Connection(conn), spec
                entry.failures, entry.last_error, entry.retry_at = 0, "", 0.0

                def on_close(_conn, reason, _opaque, entry=entry, handle=entry.conn):
                    self._mark_dead(entry, handle, _("connection closed by libvirt (reason {reason})")
                                    .format(reason=reason))

                try:
                    conn.registerCloseCallback(on_close, None)
                except libvirt.libvirtError:
                    pass
            if entry.conn is not None and entry.conn.conn is conn:
                entry.conn.enter()
                return entry.conn
        raise HostUnreachable(_("the connection to {name} was replaced while it opened; try again")
                              .format(name=spec.name))

    def call(self, spec, fn, timeout=None):
        """Run fn(conn) for the host of `spec`, bounded by `timeout` seconds.

        libvirtError raised by fn is translated into virt.errors; a timeout or a
        broken connection raises HostUnreachable and marks the host dead. Other
        errors (a missing disk, a bad XML) leave the connection as it is.
        """
        entry = self._entry(spec.key)
        handle = self._connect(spec, entry)
        timeout = self.call_timeout if timeout is None else timeout

        def run():
            try:
                with handle.serial:
                    if handle.retired:  # it died while this call waited its turn
                        raise self._known_failure(entry)
                    return fn(handle.conn)
            except libvirt.libvirtError as exc:
                error = translate(exc)
                if isinstance(error, HostUnreachable) or not _alive(handle.conn):
                    self._mark_dead(entry, handle, error.message if isinstance(error, HostUnreachable)
                                    else _("connection to {host} lost").format(host=spec.name))
                raise error from None
            finally:
                handle.leave()

        try:
            future = in_thread(run)
        except BaseException:
            handle.leave()
            raise
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            reason = _("{host} did not answer within {seconds:g} s").format(host=spec.name, seconds=timeout)
            self._mark_dead(entry, handle, reason)
            raise HostUnreachable(reason) from None

    def run_long(self, spec, fn, *, poll=None, interval=0.5, cancelled=None, on_cancel=None, timeout=None):
        """Run fn(conn) for a long operation (clone, conversion, migration) and return its result.

        fn gets a connection of its own, so the host's shared connection keeps serving short calls
        (one at a time) meanwhile; it is closed when fn returns. Taking long never marks the host
        dead: keepalive notices a host that stops answering, and fn then fails with HostUnreachable.
        While fn runs, every `interval` seconds: poll() is called (to read progress, typically
        through call() on the shared connection), and once cancelled() is true, on_cancel() is called
        (once; e.g. abortJob) and fn is expected to end. `timeout` (seconds, None for none) bounds
        the wait; fn is abandoned then, not stopped. Errors raised by poll/on_cancel propagate.
        """
        opening = in_thread(open_connection, spec)
        try:
            handle = _Connection(opening.result(timeout=self.connect_timeout))
        except FutureTimeout:
            opening.add_done_callback(_close_result)
            raise HostUnreachable(_("no answer from {name} within {connect_timeout:g} s")
                                  .format(name=spec.name, connect_timeout=self.connect_timeout)) from None
        handle.enter()

        def run():
            try:
                return fn(handle.conn)
            except libvirt.libvirtError as exc:
                raise translate(exc) from None
            finally:
                handle.leave()

        future = in_thread(run)
        handle.retire()  # closed as soon as fn returns
        deadline = None if timeout is None else time.monotonic() + timeout
        cancel_sent = False
        while True:
            wait = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
            try:
                return future.result(timeout=wait)
            except FutureTimeout:
                pass
            if deadline is not None and time.monotonic() >= deadline:
                raise HostUnreachable(_("{name}: the operation did not finish within {timeout:g} s")
                                      .format(name=spec.name, timeout=timeout))
            if cancelled is not None and not cancel_sent and cancelled():
                cancel_sent = True
                if on_cancel is not None:
                    on_cancel()
            if poll is not None:
                poll()

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
            old.retire()

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
                entry.conn.retire()
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


def get_pool(**options):
    """The process-wide pool (a fresh one after fork: threads do not survive it)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = Pool(**options)
            _pool_pid = os.getpid()
        return _pool
