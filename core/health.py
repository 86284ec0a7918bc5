"""Is virtdeck's machinery running? Redis, a worker on each queue, Celery beat and the host watcher.

Each process writes a heartbeat key to Redis that expires after HEALTH_DOWN_AFTER seconds: workers on
Celery's own worker heartbeat (every 2 s, sent only while connected to the broker), beat and the
watcher from a thread. Reading them all is one MGET on a short socket timeout and no retries, so a
dead or hung Redis shows as down at once and never makes a page hang; pages also cache the answer for
a moment (cached_status), so the banner costs next to nothing.
"""
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import redis
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

KEY = "virtdeck:heartbeat:{}"
# Heartbeat name -> (what users call it, what stops while it is down).
COMPONENTS = {
    "worker": (_("job worker"), _("jobs stay queued")),
    "inventory": (_("inventory worker"), _("hosts are not synced")),
    "beat": (_("scheduler (Celery beat)"), _("no periodic syncs are sent")),
    "watcher": (_("host watcher"), _("changes made outside virtdeck show up late")),
}
REDIS = (_("Redis"), _("jobs, inventory syncs and live updates are stopped"))
# Celery queue -> the heartbeat of the workers consuming it (settings.CELERY_TASK_ROUTES).
QUEUE_COMPONENTS = {"celery": "worker", "inventory": "inventory"}
PAGE_CACHE_SECONDS = 2.0

_clients = {}


def client():
    """A Redis client that fails fast: a short timeout, no retries (redis-py retries 3 times by default)."""
    url = settings.REDIS_URL
    if url not in _clients:
        timeout = settings.HEALTH_REDIS_TIMEOUT
        _clients[url] = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                             retry=Retry(NoBackoff(), 0))
    return _clients[url]


def beat(component):
    """Say that `component` is alive. Never raises: a process must not fail because Redis is down."""
    try:
        client().set(KEY.format(component), time.time(), ex=max(1, round(settings.HEALTH_DOWN_AFTER)))
    except (redis.RedisError, OSError) as exc:
        log.debug("heartbeat of %s not written: %s", component, exc)


def beat_forever(component, until=None):
    """Beat from a daemon thread until the `until` event is set (or the process ends)."""
    until = until or threading.Event()

    def loop():
        while True:
            beat(component)
            if until.wait(settings.HEALTH_HEARTBEAT_INTERVAL):
                return

    threading.Thread(target=loop, name=f"heartbeat-{component}", daemon=True).start()


@dataclass
class Health:
    redis_up: bool
    last_seen: dict = field(default_factory=dict)  # component -> unix time of its last heartbeat

    def is_up(self, component):
        return self.redis_up and component in self.last_seen

    @property
    def down(self):
        """(label, consequence) of each component that is down; Redis alone when it is (it hides the rest)."""
        if not self.redis_up:
            return [REDIS]
        return [COMPONENTS[name] for name in COMPONENTS if name not in self.last_seen]

    @property
    def degraded(self):
        return bool(self.down)

    def as_dict(self):
        def seen(name):
            when = self.last_seen.get(name)
            return datetime.fromtimestamp(when, timezone.utc) if when else None

        components = {"redis": {"up": self.redis_up, "last_seen": None}}
        components.update({name: {"up": self.is_up(name), "last_seen": seen(name)} for name in COMPONENTS})
        return {"degraded": self.degraded, "components": components}


def status():
    """Health now: one round trip to Redis, bounded by HEALTH_REDIS_TIMEOUT."""
    try:
        values = client().mget([KEY.format(name) for name in COMPONENTS])
    except (redis.RedisError, OSError):
        return Health(redis_up=False)
    return Health(True, {name: float(value) for name, value in zip(COMPONENTS, values) if value is not None})


_cached = (0.0, None)


def cached_status():
    """status(), reused for PAGE_CACHE_SECONDS in this process: pages ask on every render."""
    global _cached
    expires, health = _cached
    if health is None or time.monotonic() >= expires:
        health = status()
        _cached = (time.monotonic() + PAGE_CACHE_SECONDS, health)
    return health
