"""The network rows of the inventory: written by a host's sync (hosts.sync), events and actions.

Reads nothing of hosts/ but the connection: hosts.sync calls into this module, never the other way.
A host has a handful of networks, so plain ORM writes are fast enough (unlike instances).
"""
import uuid as uuidlib

from django.db import transaction

from core.events import publish
from hosts.connection import call
from virt import networks as virt_networks

from .models import Network

_FIELDS = Network.SYNCED_FIELDS


def _values(record):
    data = record.as_dict() if hasattr(record, "as_dict") else record
    return {field: data[field] for field in _FIELDS}


@transaction.atomic
def apply_records(host, records, sync_started=None):
    """Make the host's network rows match a full listing (virt.networks.collect_networks).

    Returns how many rows changed. A row written after `sync_started` (by an event or an action) is newer
    than the listing and is neither overwritten nor deleted.
    """
    existing = {str(row.uuid): row for row in Network.objects.filter(host=host)}
    seen, changes = set(), 0
    for record in records:
        key = str(uuidlib.UUID(record.uuid))
        seen.add(key)
        values = _values(record)
        row = existing.get(key)
        if row is None:
            # A network recreated under the same name gets a new UUID: the old row goes first.
            Network.objects.filter(host=host, name=values["name"]).exclude(uuid=key).delete()
            Network.objects.create(host=host, uuid=key, **values)
            changes += 1
            continue
        if sync_started is not None and row.updated_at > sync_started:
            continue
        if any(getattr(row, field) != value for field, value in values.items()):
            Network.objects.filter(pk=row.pk).update(**values)
            changes += 1
    gone = Network.objects.filter(host=host).exclude(uuid__in=seen)
    if sync_started is not None:
        gone = gone.filter(updated_at__lte=sync_started)
    changes += gone.delete()[0]
    return changes


def apply_record(host, name, record):
    """Store one network after an action or an event (record None: it is gone). Returns the row or None."""
    if record is None:
        deleted, _ = Network.objects.filter(host=host, name=name).delete()
        if deleted:
            publish("network", host=host.pk, name=name, deleted=True)
        return None
    key = str(uuidlib.UUID(record.uuid))
    with transaction.atomic():
        Network.objects.filter(host=host, name=record.name).exclude(uuid=key).delete()
        network, _ = Network.objects.update_or_create(host=host, uuid=key, defaults=_values(record))
    publish("network", id=network.pk, host=host.pk, active=network.active)
    return network


def refresh_one(host, name):
    """Re-read one network from its host (five RPCs) and store it."""
    return apply_record(host, name, call(host, lambda conn: virt_networks.collect_network(conn, name)))
