"""Which watcher watches which host: a lease per host in Redis, shares chosen by rendezvous hashing.

Run N `manage.py watch_hosts` processes and each watches a share of the hosts; no host is watched by two.

Why Redis rather than a database row: every virtdeck process already reaches Redis (Channels, Celery,
the health heartbeats). `SET NX PX` takes a lease in one atomic command, and expiry runs on Redis's own
clock, so watchers on machines whose clocks differ still agree on when a lease ran out. A lease nobody
renews disappears by itself: no table to sweep, no migration, and no write load on the database every
few seconds. If Redis restarts it forgets the leases; each watcher then fails to renew, lets go, and
takes its share again in the next round.

Shares: each watcher registers in a sorted set whose scores are expiry times. For each host, every
watcher ranks the live watchers by rendezvous hashing (the highest hash of host id + watcher id wins).
So all watchers agree on one owner per host without talking to each other, the shares are even, and a
watcher joining or leaving moves only its own share. The lease makes "never twice" hold while views of
the membership briefly differ: a watcher watches a host only while it holds that host's lease, and it
can take the lease only after the previous holder let go or stopped renewing.
"""
import hashlib
import os
import secrets
import socket
import time

from django.conf import settings

from core import health

PREFIX = "virtdeck:watcher"
MEMBERS = f"{PREFIX}:members"
LEASE = PREFIX + ":lease:{}"

# Compare-and-act scripts: renew or release the lease only while it is still ours.
RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0"""
RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0"""
# Heartbeat into the membership set on Redis's clock, drop expired members, answer who is alive.
JOIN = """local now = redis.call('time')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', ms)
redis.call('zadd', KEYS[1], ms + tonumber(ARGV[2]), ARGV[1])
return redis.call('zrange', KEYS[1], 0, -1)"""


def new_owner():
    """An id for one watcher: readable (machine and PID) and unique even when a PID is reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def rendezvous_owner(host_id, members):
    """The member that should watch `host_id`: the same answer in every watcher that sees the same members."""
    return max(members, key=lambda member: hashlib.sha256(f"{host_id}/{member}".encode()).digest())


class HostLeases:
    """One watcher's view: its membership, and the leases it takes, renews and lets go.

    `deadlines` holds, per host whose lease we hold, the monotonic time until which the lease is surely
    still ours (measured from before the call that renewed it): past it, the host must not be watched.
    """

    def __init__(self, owner=None, ttl=None, client=None):
        self.owner = owner or new_owner()
        self.ttl = float(ttl if ttl is not None else settings.WATCHER_LEASE_SECONDS)
        self.client = client or health.client()
        self.deadlines = {}
        self._renew = self.client.register_script(RENEW)
        self._release = self.client.register_script(RELEASE)
        self._join = self.client.register_script(JOIN)

    @property
    def ttl_ms(self):
        return max(1, int(self.ttl * 1000))

    def join(self):
        """Say this watcher is alive for another `ttl`; the ids of the live watchers (this one included)."""
        return [member.decode() for member in self._join(keys=[MEMBERS], args=[self.owner, self.ttl_ms])]

    def leave(self):
        self.client.zrem(MEMBERS, self.owner)

    def take(self, host_id):
        """Take the host's lease if it is free, or renew it if it is ours. True if we hold it now."""
        started = time.monotonic()
        key = LEASE.format(host_id)
        if host_id in self.deadlines and self._renew(keys=[key], args=[self.owner, self.ttl_ms]):
            held = True
        else:  # not held, or lost (expired, Redis restarted): take it if free
            held = bool(self.client.set(key, self.owner, nx=True, px=self.ttl_ms))
        if held:
            self.deadlines[host_id] = started + self.ttl
        else:
            self.deadlines.pop(host_id, None)
        return held

    def release(self, host_id):
        self.deadlines.pop(host_id, None)
        self._release(keys=[LEASE.format(host_id)], args=[self.owner])

    def release_all(self):
        for host_id in list(self.deadlines):
            self.release(host_id)
        self.leave()

    def still_held(self, host_id):
        """Whether the lease is surely ours now, without asking Redis (for when Redis does not answer)."""
        return self.deadlines.get(host_id, 0) > time.monotonic()

    def share(self, host_ids):
        """The hosts this watcher should watch and holds the lease of, after one round of heartbeat, takes,
        renewals and releases."""
        members = self.join()
        held = set()
        for host_id in host_ids:
            if rendezvous_owner(host_id, members) == self.owner:
                if self.take(host_id):
                    held.add(host_id)
            elif host_id in self.deadlines:  # another watcher's share now: let it take over
                self.release(host_id)
        for host_id in set(self.deadlines) - set(host_ids):  # removed hosts
            self.release(host_id)
        return held


def holders(host_ids, client=None):
    """{host id: id of the watcher holding its lease, or None}: one MGET, for pages and tests."""
    host_ids = list(host_ids)
    if not host_ids:
        return {}
    values = (client or health.client()).mget([LEASE.format(host_id) for host_id in host_ids])
    return {host_id: value.decode() if value else None for host_id, value in zip(host_ids, values)}
