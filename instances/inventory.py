"""The instance rows of the inventory: written by a host's sync (hosts.sync) and by events (the watcher).

Reads nothing of hosts/ but the connection: hosts.sync calls into this module, never the other way.
"""
import uuid as uuidlib

from django.db import connection, transaction
from django.utils import timezone

from core.events import publish, publish_many
from hosts.connection import call
from virt import inventory as virt_inventory

from . import totals
from .migration import migrating_pks
from .models import Instance, InstanceDisk

_FIELDS = Instance.SYNCED_FIELDS
# What a person sees change in a list: only these make open pages refresh.
VISIBLE_FIELDS = ("name", "state", "vcpus", "memory_kib", "autostart", "persistent")


def current_rows(host):
    """uuid -> {pk, synced fields, disks} of the host's rows: the sync's `known` and its diff base (two queries)."""
    rows = Instance.objects.filter(host=host).values("pk", "uuid", *_FIELDS)
    disks = _stored_disks(InstanceDisk.objects.filter(instance__host=host))
    return {str(row.pop("uuid")): {**row, "disks": disks.get(row["pk"], ())} for row in rows}


def _stored_disks(queryset):
    """instance pk -> ((target, path), ...) sorted by target, as virt.inventory's records have them (one query)."""
    disks = {}
    for pk, target, path in queryset.order_by("instance_id", "target").values_list("instance_id", "target", "path"):
        disks.setdefault(pk, []).append((target, path))
    return {pk: tuple(pairs) for pk, pairs in disks.items()}


def _replace_disks(disks):
    """Store {instance pk: ((target, path), ...)}, the disks of those VMs only: one DELETE, one INSERT run."""
    InstanceDisk.objects.filter(instance_id__in=list(disks)).delete()
    rows = [InstanceDisk(instance_id=pk, target=target, path=path) for pk, pairs in disks.items()
            for target, path in pairs]
    # A VM written at the same time by an event and by the sync: the first one's disks stay, the next sync
    # rewrites them if they differ.
    InstanceDisk.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def _values(record):
    return {f: record[f] for f in _FIELDS if f in record}


def _update_many(changed, now, not_after=None):
    """One UPDATE statement run for all changed rows: ~50x faster than bulk_update's CASE WHEN on SQLite.

    With `not_after`, a row whose updated_at is newer (an event wrote it meanwhile) is left alone.
    """
    quote = connection.ops.quote_name
    columns = [Instance._meta.get_field(f).column for f in (*_FIELDS, "updated_at")]
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    # Names come from the model, quoted; every value is a bound parameter.
    sql = f"UPDATE {quote(Instance._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # nosec B608
    stamp = connection.ops.adapt_datetimefield_value(now)
    guard = []
    if not_after is not None:
        sql += f" AND {quote(Instance._meta.get_field('updated_at').column)} <= %s"
        guard = [connection.ops.adapt_datetimefield_value(not_after)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*(row[f] for f in _FIELDS), stamp, row["pk"], *guard] for row in changed])


@transaction.atomic
def apply_records(host, records, existing=None, sync_started=None):
    """Make the host's rows match a full listing. Returns how many rows changed visibly.

    `sync_started` is when the listing began: a row written after it (by an event from the
    watcher) is newer than the listing and is neither overwritten nor deleted, and a row the
    watcher inserted meanwhile is kept as it is.
    """
    existing = current_rows(host) if existing is None else existing
    seen, to_create, changed, visible, recount = set(), [], [], 0, False
    new_disks = {}  # uuid -> disks, for the VMs whose disks differ from the stored ones
    now = timezone.now()
    for record in records:
        key = str(uuidlib.UUID(record["uuid"]))
        seen.add(key)
        values = _values(record)
        row = existing.get(key)
        if "disks" in record and record["disks"] != (row.get("disks", ()) if row else ()):
            new_disks[key] = record["disks"]
        if row is None:
            to_create.append(Instance(host=host, uuid=key, updated_at=now, **values))
            continue
        if any(row[f] != v for f, v in values.items()):
            visible += any(row[f] != values[f] for f in VISIBLE_FIELDS if f in values)
            recount = recount or any(row[f] != values[f] for f in totals.FIELDS if f in values)
            changed.append({**row, **values})
    gone = [row["pk"] for key, row in existing.items() if key not in seen]
    Instance.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
    if changed:
        _update_many(changed, now, not_after=sync_started)
    if new_disks:
        _store_new_disks(host, existing, new_disks)
    if gone:
        # A row whose VM is being migrated is the migration job's to move (instances/migration.py).
        gone = set(gone) - migrating_pks(gone)
        doomed = Instance.objects.filter(pk__in=gone, host=host)
        if sync_started is not None:
            doomed = doomed.filter(updated_at__lte=sync_started)
        recount = doomed.delete()[0] > 0 or recount
    if to_create or recount:
        totals.refresh([host.pk])
    return len(to_create) + visible + len(gone)


def _store_new_disks(host, existing, new_disks):
    """Write the disks of the VMs in `new_disks` (uuid -> disks); the new rows' pks are read back (one query),
    since bulk_create with ignore_conflicts returns none."""
    pks = {key: existing[key]["pk"] for key in new_disks if key in existing}
    created = [key for key in new_disks if key not in pks]
    if created:
        pks.update((str(uuid), pk) for uuid, pk in
                   Instance.objects.filter(host=host, uuid__in=created).values_list("uuid", "pk"))
    _replace_disks({pks[key]: disks for key, disks in new_disks.items() if key in pks})


def apply_record(host, uuid, record):
    """Update one row after an event (record None: the domain is gone)."""
    key = str(uuidlib.UUID(uuid))
    if record is None:
        rows = Instance.objects.filter(host=host, uuid=key)
        with transaction.atomic():
            # The source's "undefined" event can come before the migration job moves the row: keep it for the job.
            deleted, _ = rows.exclude(pk__in=migrating_pks(rows.values_list("pk", flat=True))).delete()
            if deleted:
                totals.refresh([host.pk])
        if deleted:
            publish("instance", host=host.pk, uuid=key, deleted=True)
        return
    with transaction.atomic():
        instance, _ = Instance.objects.update_or_create(host=host, uuid=key, defaults=_values(record))
        if "disks" in record and _stored_disks(instance.disks.all()).get(instance.pk, ()) != record["disks"]:
            _replace_disks({instance.pk: record["disks"]})
        totals.refresh([host.pk])
    publish("instance", id=instance.pk, host=host.pk, uuid=key, state=instance.state)
    return instance


def refresh_one(host, uuid):
    """Re-read one domain from its host (a handful of RPCs) and store it."""
    record = call(host, lambda conn: virt_inventory.collect_one(conn, uuid))
    return apply_record(host, uuid, record)


def apply_rows(rows):
    """Store re-read records of rows that exist (a bulk action's VMs): one transaction and one UPDATE run, then
    their events in one trip once committed. rows: [(instance, record or None: the domain is gone)].

    Returns {pk: the fresh row, or None when deleted}: the instances given, updated in place to what was
    written (the UPDATE sets every synced field, so reading the rows back would only repeat it).
    """
    now = timezone.now()
    kept = [(instance, _values(record)) for instance, record in rows if record is not None]
    changed = [{**{f: getattr(instance, f) for f in _FIELDS}, **values, "pk": instance.pk} for instance, values in kept]
    gone = [instance.pk for instance, record in rows if record is None]
    recount = {instance.host_id for instance, values in kept
               if any(getattr(instance, f) != values[f] for f in totals.FIELDS if f in values)}
    recount |= {instance.host_id for instance, record in rows if record is None}
    reported = {instance.pk: record["disks"] for instance, record in rows if record and "disks" in record}
    with transaction.atomic():
        if changed:
            _update_many(changed, now)
        if reported:  # hosts without block stats (the test driver) report none: no query
            stored = _stored_disks(InstanceDisk.objects.filter(instance_id__in=list(reported)))
            new_disks = {pk: disks for pk, disks in reported.items() if stored.get(pk, ()) != disks}
            if new_disks:
                _replace_disks(new_disks)
        if gone:
            Instance.objects.filter(pk__in=gone).delete()
        totals.refresh(recount)
    for instance, values in kept:
        for field, value in values.items():
            setattr(instance, field, value)
        instance.updated_at = now
    fresh = {instance.pk: instance for instance, _ in kept}
    events = [{"id": vm.pk, "host": vm.host_id, "uuid": str(vm.uuid), "state": vm.state} for vm in fresh.values()]
    events += [{"host": instance.host_id, "uuid": str(instance.uuid), "deleted": True}
               for instance, record in rows if record is None]
    transaction.on_commit(lambda: publish_many("instance", events))
    return {**fresh, **{pk: None for pk in gone}}
