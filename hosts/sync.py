"""A host's state, usage and inventory refreshed from libvirt: the periodic sync, the watcher's catch-up,
Refresh. Writes instance, network and storage rows through instances.inventory, networks.inventory and
storage.inventory; nothing here is imported back by them."""
import time
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db.models import Q
from django.utils import timezone

from core.events import publish
from instances import inventory as instance_inventory
from networks import inventory as network_inventory
from storage import inventory as storage_inventory
from virt import host as virt_host
from virt import inventory as virt_inventory
from virt import networks as virt_networks
from virt.errors import VirtError

from . import host_keys
from .connection import call
from .models import Host


def _cpu_percent(previous, current):
    keys = ("kernel", "user", "idle", "iowait")
    if not previous or not all(k in current for k in ("kernel", "user", "idle")):
        return None
    total = sum(current.get(k, 0) - previous.get(k, 0) for k in keys)
    busy = sum(current.get(k, 0) - previous.get(k, 0) for k in ("kernel", "user"))
    return round(100.0 * busy / total, 1) if total > 0 else None


def mark_unreachable(host, error):
    """Record a VirtError as the host's state, unless the host was seen up after the failure.

    Several processes watch a host: a pool still backing off from an old failure
    must not flip back a host that another process has since reached.
    """
    error = host_keys.explain_refusal(host, error)  # a changed SSH host key, named with both fingerprints
    observed = datetime.fromtimestamp(error.observed_at, tz=dt_timezone.utc)
    now = timezone.now()
    updated = Host.objects.filter(pk=host.pk).filter(Q(last_seen__isnull=True) | Q(last_seen__lt=observed)).update(
        state=Host.State.UNREACHABLE, last_error=error.message, latency_ms=None, last_sync=now
    )
    if not updated:
        return
    changed = host.state != Host.State.UNREACHABLE or host.last_error != error.message
    host.state, host.last_error, host.latency_ms, host.last_sync = Host.State.UNREACHABLE, error.message, None, now
    if changed:
        publish("host", id=host.pk, state=host.state)


def sync_host(host):
    """Refresh one host's inventory with bulk calls. Returns the number of VMs, or None if unreachable."""
    # Rows an event writes after this instant are newer than the listing: apply_records keeps them.
    sync_started = timezone.now()
    existing = instance_inventory.current_rows(host)

    def gather(conn):
        started = time.perf_counter()
        conn.getLibVersion()
        latency = (time.perf_counter() - started) * 1000
        return (latency, virt_inventory.collect(conn, existing), virt_host.usage(conn),
                virt_networks.collect_networks(conn))

    try:
        latency, records, usage, networks = call(host, gather)
    except VirtError as exc:  # HostUnreachable included
        mark_unreachable(host, exc)
        return None
    now = timezone.now()
    changed_state = host.state != Host.State.UP
    host.cpu_percent = _cpu_percent(host.cpu_times, usage["cpu_times"])
    Host.objects.filter(pk=host.pk).update(
        state=Host.State.UP, last_error="", latency_ms=round(latency, 2), last_seen=now, last_sync=now,
        memory_total_kib=usage["memory_total_kib"], memory_free_kib=usage["memory_free_kib"],
        cpu_times=usage["cpu_times"], cpu_percent=host.cpu_percent,
    )
    host.state, host.last_error, host.latency_ms = Host.State.UP, "", round(latency, 2)
    changes = instance_inventory.apply_records(host, records, existing, sync_started=sync_started)
    changes += network_inventory.apply_records(host, networks, sync_started=sync_started)
    storage_inventory.sync_host_storage(host)
    if changed_state or changes:
        publish("host", id=host.pk, state=host.state, changes=changes)
    return len(records)
