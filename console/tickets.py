"""Console tickets: what lets a websocket open one VM's console, once.

A ticket is 256 random bits (secrets), bound to a user, a VM and a kind (vnc or serial), valid for
LIFETIME seconds and redeemable once. Tickets live in Redis, which every virtdeck process shares (the
API that issues a ticket and the daphne that serves the websocket need not be one process); Redis
holds only a digest of each ticket, so its contents give no usable ticket away.

A redeemed ticket stays behind as a "used" mark until it would have expired plus GRACE, and an
expired one is kept as long, so the page can say why a connection was refused.
"""
import hashlib
import json
import secrets
import time
from dataclasses import dataclass

import redis

from core import health

from .refusals import Refusal, Refused

KINDS = ("vnc", "serial")
LIFETIME = 30  # seconds
GRACE = 60  # seconds an expired or used ticket is still recognised as such
_USED = b"used"


class StoreUnavailable(Exception):
    """Redis, where tickets live, does not answer."""


@dataclass(frozen=True)
class Ticket:
    user_id: int
    instance_id: int
    kind: str


def _key(ticket):
    return "console:ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def issue(user, instance, kind, lifetime=LIFETIME):
    """A new ticket for `user` to open `instance`'s `kind` console: (ticket string, seconds it lasts)."""
    if kind not in KINDS:
        raise ValueError(f"unknown console kind {kind!r}")
    ticket = secrets.token_urlsafe(32)
    record = {"user": user.pk, "instance": instance.pk, "kind": kind, "expires": time.time() + lifetime}
    try:
        health.client().set(_key(ticket), json.dumps(record), ex=lifetime + GRACE, nx=True)
    except (redis.RedisError, OSError) as exc:
        raise StoreUnavailable(str(exc)) from None
    return ticket, lifetime


def redeem(ticket):
    """The Ticket, which can never be redeemed again; Refused (UNKNOWN_TICKET, USED, EXPIRED) otherwise."""
    if not ticket or len(ticket) > 100:
        raise Refused(Refusal.UNKNOWN_TICKET if ticket else Refusal.NO_TICKET)
    # One atomic step: mark it used and get what it was. Of two connections racing, one gets the record.
    try:
        previous = health.client().set(_key(ticket), _USED, xx=True, keepttl=True, get=True)
    except (redis.RedisError, OSError) as exc:
        raise Refused(Refusal.UNREACHABLE, f"ticket store: {exc}") from None
    if previous is None:
        raise Refused(Refusal.UNKNOWN_TICKET)
    if previous == _USED:
        raise Refused(Refusal.USED)
    record = json.loads(previous)
    if time.time() > record["expires"]:
        raise Refused(Refusal.EXPIRED)
    return Ticket(user_id=record["user"], instance_id=record["instance"], kind=record["kind"])
