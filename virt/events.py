"""Lifecycle event subscriptions: one dedicated connection per watched host.

The subscription owns its connection (not the pool's): a registered event
callback holds a reference inside libvirt, so the connection must be
deregistered before it is closed, and the pool may drop its own connections
at any time. Opening and registering are bounded like any pool call; closing
happens in the background.
"""
import threading
from concurrent.futures import TimeoutError as FutureTimeout

import libvirt

from .connection import _alive, in_thread, open_connection
from .errors import HostUnreachable, translate
from .i18n import _


class LifecycleSubscription:
    """Calls on_event(uuid, event) from libvirt's event loop thread for every domain lifecycle event of the
    host, on_network_event(name, event) for every network lifecycle event (defined, started, stopped,
    undefined) and on_pool_event(name) for every storage pool lifecycle or refresh event, each when given."""

    def __init__(self, spec, on_event, timeout, on_network_event=None, on_pool_event=None):
        self.spec = spec
        self._lost = threading.Event()

        def callback(_conn, dom, event, _detail, _opaque):
            on_event(dom.UUIDString(), event)

        def network_callback(_conn, network, event, _detail, _opaque):
            on_network_event(network.name(), event)

        def pool_callback(_conn, pool, *_rest):  # lifecycle: (event, detail, opaque); refresh: (opaque)
            on_pool_event(pool.name())

        def subscribe():
            conn = open_connection(spec)
            callback_ids = []
            try:
                conn.registerCloseCallback(lambda *_: self._lost.set(), None)
                callback_ids.append(("domain", conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, callback, None)))
                if on_network_event is not None:
                    callback_ids.append(("network", conn.networkEventRegisterAny(
                        None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, network_callback, None)))
                if on_pool_event is not None:
                    for event_id in (libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                     libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH):
                        callback_ids.append(("pool", conn.storagePoolEventRegisterAny(
                            None, event_id, pool_callback, None)))
            except libvirt.libvirtError as exc:
                in_thread(conn.close)
                raise translate(exc) from None
            return conn, callback_ids

        future = in_thread(subscribe)
        try:
            self.conn, self.callback_ids = future.result(timeout=timeout)
        except FutureTimeout:
            future.add_done_callback(lambda f: f.exception() is None and in_thread(self._release, *f.result()))
            raise HostUnreachable(_("no answer from {name} within {timeout:g} s")
                                  .format(name=spec.name, timeout=timeout)) from None

    @property
    def alive(self):
        return not self._lost.is_set() and _alive(self.conn)

    @staticmethod
    def _release(conn, callback_ids):
        deregister = {"domain": conn.domainEventDeregisterAny, "network": conn.networkEventDeregisterAny,
                      "pool": conn.storagePoolEventDeregisterAny}
        steps = [lambda kind=kind, cid=cid: deregister[kind](cid) for kind, cid in callback_ids]
        for step in (*steps, conn.unregisterCloseCallback, conn.close):
            try:
                step()
            except libvirt.libvirtError:
                pass  # the connection is already gone

    def close(self):
        """Deregister, then close, in the background (both are RPCs to a possibly hung peer)."""
        in_thread(self._release, self.conn, self.callback_ids)

