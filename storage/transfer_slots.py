"""A cap on concurrent volume transfers (uploads and downloads), shared by every web process: a slot per
transfer, leased in Redis.

Two limits, both checked before any body byte is read:
- settings.MAX_TRANSFERS over the whole installation: what one transfer costs lives in the web processes
  (a thread, up to core.streamed_http.PIPE_HIGH of request body or transfer.DOWNLOAD_QUEUE_PIECES pieces plus
  a libvirt stream window of response), so this bounds the web server's memory and threads;
- settings.MAX_TRANSFERS_PER_HOST for one host: the bytes land on that host's disk and pass through its
  libvirtd, so a few transfers to one host do not take every slot from the others.
0 turns a limit off. A refused transfer gets TransfersBusy (503 with Retry-After: the server is saturated,
it is not the client's rate; core.api maps nothing here, the view answers it).

Why Redis (as hosts/leases.py): every process reaches it already, one Lua script counts and takes a slot
atomically, and expiry runs on Redis's clock. Each slot is a member of a sorted set (one for all, one per
host) scored by its expiry; a thread renews it every third of settings.TRANSFER_LEASE_SECONDS while the
transfer runs. A process that dies stops renewing, and its slots count no more once their lease runs out:
nothing leaks for longer than one lease.
"""
import logging
import os
import secrets
import socket
import threading

import redis
from django.conf import settings
from django.utils.translation import gettext as _

from core import health

log = logging.getLogger(__name__)
PREFIX = "virtdeck:transfers"
ALL = f"{PREFIX}:all"
HOST = PREFIX + ":host:{}"

# Redis's clock in milliseconds; members whose lease ran out are dropped before counting.
_NOW = """local now = redis.call('time')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
"""
# KEYS: the sets; ARGV: member, lease ms, then each set's limit (0: none). Returns 0 (taken) or the index of
# the first set that is full.
ACQUIRE = _NOW + """for i, key in ipairs(KEYS) do
  redis.call('zremrangebyscore', key, '-inf', ms)
  local limit = tonumber(ARGV[2 + i])
  if limit > 0 and redis.call('zcard', key) >= limit then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('zadd', key, ms + tonumber(ARGV[2]), ARGV[1])
  redis.call('pexpire', key, ARGV[2])
end
return 0"""
# Renew: the member's lease (and the set's, which outlives every member in it) from now on.
RENEW = _NOW + """for i, key in ipairs(KEYS) do
  redis.call('zadd', key, ms + tonumber(ARGV[2]), ARGV[1])
  redis.call('pexpire', key, ARGV[2])
end
return 0"""


class TransfersBusy(Exception):
    """No slot: `message` says which limit, `retry_after` (seconds) when to try again."""

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def _lease_ms():
    return max(1, int(settings.TRANSFER_LEASE_SECONDS * 1000))


def _retry_after():
    """A renewal period: a slot held by a process that died is free within a lease; a finished one at once."""
    return max(1, round(settings.TRANSFER_LEASE_SECONDS / 3))


class Slot:
    """One transfer's slot, renewed from a daemon thread until release() (idempotent; also on `with` exit)."""

    def __init__(self, client, keys, member):
        self.client, self.keys, self.member = client, keys, member
        self._released = threading.Event()
        self._renew = client.register_script(RENEW)
        self._thread = threading.Thread(target=self._renew_until_released, name=f"transfer-slot-{member}",
                                        daemon=True)
        self._thread.start()

    def _renew_until_released(self):
        while not self._released.wait(settings.TRANSFER_LEASE_SECONDS / 3):
            try:
                self._renew(keys=self.keys, args=[self.member, _lease_ms()])
            except (redis.RedisError, OSError) as exc:  # next round; past the lease the slot just counts no more
                log.warning("transfer slot %s not renewed: %s", self.member, exc)

    def release(self):
        if self._released.is_set():
            return
        self._released.set()
        self._thread.join()  # no renewal may put the member back after it is removed
        try:
            for key in self.keys:
                self.client.zrem(key, self.member)
        except (redis.RedisError, OSError) as exc:
            log.warning("transfer slot %s not released (it expires by itself): %s", self.member, exc)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


def acquire(host_id, client=None):
    """A Slot for a transfer to or from host `host_id`; TransfersBusy if a limit is reached or Redis is down."""
    client = client or health.client()
    keys = [ALL, HOST.format(host_id)]
    limits = [settings.MAX_TRANSFERS, settings.MAX_TRANSFERS_PER_HOST]
    member = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"
    try:
        full = client.register_script(ACQUIRE)(keys=keys, args=[member, _lease_ms(), *limits])
    except (redis.RedisError, OSError) as exc:
        log.warning("no transfer slot: Redis does not answer: %s", exc)  # its address stays in the log
        raise TransfersBusy(_("Transfers are unavailable: Redis, which counts them, does not answer."),
                            _retry_after()) from None
    if full == 1:
        raise TransfersBusy(_("%(limit)d volume transfers are running, the most virtdeck allows at once "
                              "(VIRTDECK_MAX_TRANSFERS): try again shortly.") % {"limit": limits[0]},
                            _retry_after())
    if full == 2:
        raise TransfersBusy(_("%(limit)d volume transfers to or from this host are running, the most virtdeck "
                              "allows per host (VIRTDECK_MAX_TRANSFERS_PER_HOST): try again shortly.")
                            % {"limit": limits[1]}, _retry_after())
    return Slot(client, keys, member)


def running(host_id=None, client=None):
    """How many slots are held now (on `host_id`, or in all): for pages and tests."""
    client = client or health.client()
    key = ALL if host_id is None else HOST.format(host_id)
    seconds, microseconds = client.time()  # Redis's clock, as the leases
    return client.zcount(key, f"({seconds * 1000 + microseconds // 1000}", "+inf")


class ReleasingIterator:
    """A streaming response's content that releases `slot` when the response is closed (read to the end, the
    client went away, or never read: a HEAD), as Django closes a response's content."""

    def __init__(self, slot, pieces):
        self.slot, self.pieces = slot, pieces

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.pieces)

    def close(self):
        try:
            close = getattr(self.pieces, "close", None)
            if close is not None:
                close()
        finally:
            self.slot.release()
