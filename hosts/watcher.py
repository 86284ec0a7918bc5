"""The host watcher: libvirt lifecycle events -> inventory rows within a second.

One process (`manage.py watch_hosts`) subscribes to domain and network lifecycle
events and storage pool lifecycle and refresh events on every host (virt.events). libvirt calls back in its event-loop thread;
callbacks only queue (kind, host, key) so that no RPC runs inside the event loop.
The main loop reads the queue, re-reads that one domain, network or pool (with its
volumes), writes its rows and pushes them to open pages. Every few seconds it picks up added, edited, removed
and disconnected hosts.

With `leases` (hosts/leases.py; `watch_hosts` always passes them), N watchers share the hosts: each
watches only the hosts whose lease it holds, renewed every rescan.
"""
import logging
import queue
import threading
import time

import redis
from django.conf import settings
from django.db import close_old_connections

from core import health
from instances import inventory as instance_inventory
from networks import inventory as network_inventory
from storage import inventory as storage_inventory
from virt.errors import VirtError
from virt.events import LifecycleSubscription

from .connection import connection_spec
from .models import Host
from .sync import mark_unreachable, sync_host

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self, rescan_interval=2.0, leases=None):
        self.events = queue.Queue()
        self.rescan_interval = rescan_interval
        self.leases = leases  # a HostLeases: watch only this watcher's share; None: watch every host
        self.subscriptions = {}  # host id -> LifecycleSubscription
        self.stop = threading.Event()

    def _subscribe(self, host):
        def on_event(uuid, _event, host_id=host.pk):
            self.events.put(("domain", host_id, uuid))

        def on_network_event(name, _event, host_id=host.pk):
            self.events.put(("network", host_id, name))

        def on_pool_event(name, host_id=host.pk):
            self.events.put(("pool", host_id, name))

        self.subscriptions[host.pk] = LifecycleSubscription(
            connection_spec(host), on_event, timeout=settings.VIRT_CONNECT_TIMEOUT + settings.VIRT_CALL_TIMEOUT,
            on_network_event=on_network_event, on_pool_event=on_pool_event,
        )
        log.info("watching %s (%s)", host.name, host.uri)

    def rescan(self):
        """Subscribe to new or reconnected hosts; drop removed and edited ones."""
        hosts = {h.pk: h for h in Host.objects.all()}
        if self.leases is not None:
            share = self._share(hosts)
            hosts = {pk: host for pk, host in hosts.items() if pk in share}
        for host_id, subscription in list(self.subscriptions.items()):
            host = hosts.get(host_id)
            if host is None or not subscription.alive or self._spec(host) != subscription.spec:
                self.subscriptions.pop(host_id).close()
        for host_id, host in hosts.items():
            if host_id in self.subscriptions:
                continue
            try:
                self._subscribe(host)
            except VirtError as exc:
                mark_unreachable(host, exc)
                continue
            except Exception:  # noqa: BLE001 - one bad host must not keep the others unwatched
                log.exception("watcher: cannot watch %s", host.name)
                continue
            # Catch up on whatever changed while we were not subscribed.
            self._guarded(sync_host, host)

    def _share(self, host_ids):
        """The hosts whose lease this watcher holds; while Redis does not answer, those still surely ours."""
        try:
            return self.leases.share(host_ids)
        except (redis.RedisError, OSError) as exc:
            log.warning("watcher: leases not renewed (%s); keeping only hosts whose lease is surely ours", exc)
            return {pk for pk in host_ids if self.leases.still_held(pk)}

    @staticmethod
    def _spec(host):
        """The host's connection spec, or None if today's settings refuse its URI (marked below, on subscribe)."""
        try:
            return connection_spec(host)
        except VirtError:
            return None

    REFRESH = {"domain": instance_inventory.refresh_one, "network": network_inventory.refresh_one,
               "pool": storage_inventory.refresh_pool}

    def handle(self, kind, host_id, key):
        if self.leases is not None and not self.leases.still_held(host_id):
            return  # its lease may have passed to another watcher since the last rescan: that one applies it
        host = Host.objects.filter(pk=host_id).first()
        if host is None:
            return
        try:
            self.REFRESH[kind](host, key)
        except VirtError as exc:
            log.warning("%s event for %s on %s: %s", kind, key, host.name, exc.message)

    def _guarded(self, fn, *args):
        """One failure (a locked database, a host error) must not end the watcher."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            log.exception("watcher: %s failed", fn.__name__)
        finally:
            close_old_connections()

    def run(self):
        # From a thread, not this loop: a rescan may rightly wait a connect timeout on each hung host.
        health.beat_forever("watcher", until=self.stop)
        next_rescan = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_rescan:
                self._guarded(self.rescan)
                next_rescan = time.monotonic() + self.rescan_interval
            try:
                kind, host_id, key = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self._guarded(self.handle, kind, host_id, key)
        for subscription in self.subscriptions.values():
            subscription.close()
        self.subscriptions.clear()
        if self.leases is not None:  # hand the hosts over now rather than when the leases run out
            self._guarded(self.leases.release_all)
