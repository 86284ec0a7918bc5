"""The host watcher: libvirt lifecycle events -> inventory rows within a second.

One process (`manage.py watch_hosts`) subscribes to domain lifecycle events on
every host. libvirt calls back in its event-loop thread; callbacks only queue
(host, uuid) so that no RPC runs inside the event loop. The main loop reads
the queue, re-reads that one domain, writes its row and pushes it to open
pages. Every few seconds it picks up added, removed and reconnected hosts.
"""
import logging
import queue
import threading
import time

import libvirt
from django.db import close_old_connections

from virt.errors import VirtError

from . import services
from .models import Host

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self, rescan_interval=2.0):
        self.events = queue.Queue()
        self.rescan_interval = rescan_interval
        self.subscriptions = {}  # host id -> (spec, conn, callback id)
        self.stop = threading.Event()

    def _on_lifecycle(self, _conn, dom, event, _detail, host_id):
        self.events.put((host_id, dom.UUIDString(), event))

    def _unsubscribe(self, host_id):
        spec, conn, callback_id = self.subscriptions.pop(host_id)
        try:
            conn.domainEventDeregisterAny(callback_id)
        except libvirt.libvirtError:
            pass  # the connection is already gone

    def _subscribe(self, host):
        spec = services.connection_spec(host)
        conn = services.pool().connection(spec)
        callback_id = conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle, host.pk
        )
        self.subscriptions[host.pk] = (spec, conn, callback_id)
        log.info("watching %s (%s)", host.name, host.uri)

    def rescan(self):
        """Subscribe to new or reconnected hosts; drop removed ones."""
        hosts = {h.pk: h for h in Host.objects.all()}
        for host_id in list(self.subscriptions):
            spec, conn, _ = self.subscriptions[host_id]
            host = hosts.get(host_id)
            alive = True
            try:
                alive = conn.isAlive() == 1
            except libvirt.libvirtError:
                alive = False
            if host is None or not alive or services.connection_spec(host) != spec:
                self._unsubscribe(host_id)
        for host_id, host in hosts.items():
            if host_id in self.subscriptions:
                continue
            try:
                self._subscribe(host)
            except (VirtError, libvirt.libvirtError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                services.mark_unreachable(host, message)
                continue
            # Catch up on whatever changed while we were not subscribed.
            services.sync_host(host)

    def handle(self, host_id, uuid, event):
        from instances import services as instance_services

        host = Host.objects.filter(pk=host_id).first()
        if host is None:
            return
        try:
            instance_services.refresh_one(host, uuid)
        except VirtError as exc:
            log.warning("event for %s on %s: %s", uuid, host.name, exc.message)

    def _guarded(self, fn, *args):
        """One failure (a locked database, a host error) must not end the watcher."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            log.exception("watcher: %s failed", fn.__name__)
        finally:
            close_old_connections()

    def run(self):
        next_rescan = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_rescan:
                self._guarded(self.rescan)
                next_rescan = time.monotonic() + self.rescan_interval
            try:
                host_id, uuid, event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self._guarded(self.handle, host_id, uuid, event)
        for host_id in list(self.subscriptions):
            self._unsubscribe(host_id)
