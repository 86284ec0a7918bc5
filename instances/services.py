"""Inventory writes (from sync and events) and instance reads."""
import uuid as uuidlib

from django.db import transaction
from django.utils import timezone

from core.events import publish
from virt import inventory as virt_inventory

from .models import Instance

_FIELDS = Instance.SYNCED_FIELDS


def known_records(host):
    """uuid -> {vcpus, memory_kib, max_memory_kib} of the host's rows (for drivers whose stats lack them)."""
    rows = Instance.objects.filter(host=host).values_list("uuid", "vcpus", "memory_kib", "max_memory_kib")
    return {str(u): {"vcpus": v, "memory_kib": m, "max_memory_kib": mm} for u, v, m, mm in rows}


def _values(record):
    return {f: record[f] for f in _FIELDS if f in record}


@transaction.atomic
def apply_records(host, records):
    """Make the host's rows match a full listing. Returns how many rows changed."""
    existing = {str(i.uuid): i for i in Instance.objects.filter(host=host)}
    seen, to_create, to_update = set(), [], []
    now = timezone.now()
    for record in records:
        key = str(uuidlib.UUID(record["uuid"]))
        seen.add(key)
        values = _values(record)
        row = existing.get(key)
        if row is None:
            to_create.append(Instance(host=host, uuid=key, updated_at=now, **values))
            continue
        if any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            row.updated_at = now
            to_update.append(row)
    gone = [row.pk for key, row in existing.items() if key not in seen]
    Instance.objects.bulk_create(to_create, batch_size=500)
    Instance.objects.bulk_update(to_update, [*_FIELDS, "updated_at"], batch_size=500)
    if gone:
        Instance.objects.filter(pk__in=gone).delete()
    return len(to_create) + len(to_update) + len(gone)


def apply_record(host, uuid, record):
    """Update one row after an event (record None: the domain is gone)."""
    key = str(uuidlib.UUID(uuid))
    if record is None:
        deleted, _ = Instance.objects.filter(host=host, uuid=key).delete()
        if deleted:
            publish("instance", host=host.pk, uuid=key, deleted=True)
        return
    instance, _ = Instance.objects.update_or_create(host=host, uuid=key, defaults=_values(record))
    publish("instance", id=instance.pk, host=host.pk, uuid=key, state=instance.state)
    return instance


def refresh_one(host, uuid):
    """Re-read one domain from its host (a handful of RPCs) and store it."""
    from hosts.services import call

    record = call(host, lambda conn: virt_inventory.collect_one(conn, uuid))
    return apply_record(host, uuid, record)


def read_details(instance):
    """Live configuration of one VM from its host: {'summary', 'xml', 'error'}.

    One bounded libvirt call; when the host is down the page still shows the
    inventory row and says why the details are missing.
    """
    from hosts.services import call
    from virt.errors import VirtError
    from virt.xml.domain import summarize

    uuid = str(instance.uuid)
    try:
        xml = call(instance.host, lambda conn: conn.lookupByUUIDString(uuid).XMLDesc(0))
    except VirtError as exc:
        return {"summary": None, "xml": "", "error": exc.message}
    return {"summary": summarize(xml), "xml": xml, "error": ""}
