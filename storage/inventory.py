"""The pool and volume rows of the inventory: written by a host's sync (hosts.sync), the watcher and services.

A steady sync reads pools only (virt.storage.collect_pools: 3 + 2 RPCs per pool). A pool's volumes
(2 + 1 RPCs per volume: libvirt has no bulk call) are re-read only when the pool changes: when it is
new or becomes active, after a virtdeck action, on a pool event or refresh, or when they are older than
settings.STORAGE_VOLUMES_MAX_AGE. hosts.sync calls into this module, never the other way.
"""
import logging
import uuid as uuidlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.events import publish
from hosts.connection import call
from virt import storage as virt_storage
from virt import volumes as virt_volumes
from virt.errors import VirtError

from .choices import ACTIVE_POOL_STATES
from .models import StoragePool, Volume

log = logging.getLogger(__name__)
# What a person sees change in a list: only these make open pages refresh (a dir pool's byte counts follow
# every write to its file system, and would refresh them at every sync).
VISIBLE_POOL_FIELDS = ("name", "type", "state", "autostart", "persistent", "target_path", "source")


def _pool_values(record):
    return {field: getattr(record, field) for field in StoragePool.SYNCED_FIELDS}


def _volume_values(record):
    values = {field: getattr(record, field) for field in Volume.SYNCED_FIELDS}
    return {**values, "format": values["format"][:20], "type": values["type"][:20]}


def volumes_due(pool, previous_state=None, now=None):
    """Whether the pool's volume rows must be re-read after a sync saw it (pure)."""
    if pool.state not in ACTIVE_POOL_STATES:
        return False
    if pool.volumes_synced_at is None or previous_state not in (None, *ACTIVE_POOL_STATES):
        return True  # never read, or just started
    max_age = timedelta(seconds=settings.STORAGE_VOLUMES_MAX_AGE)
    return (now or timezone.now()) - pool.volumes_synced_at >= max_age


@transaction.atomic
def apply_pools(host, records, sync_started=None):
    """Make the host's pool rows match a full listing; return the rows whose volumes are due.

    `sync_started` is when the listing began: a row written after it (an event, an action) is newer than
    the listing, and is neither overwritten nor deleted.
    """
    existing = {str(pool.uuid): pool for pool in StoragePool.objects.filter(host=host)}
    if sync_started is not None:
        newer = {key for key, pool in existing.items() if pool.updated_at > sync_started}
        records = [record for record in records if str(uuidlib.UUID(record.uuid)) not in newer]
        existing = {key: pool for key, pool in existing.items() if key not in newer}
    seen, due, changed = set(), [], False
    for record in records:
        key = str(uuidlib.UUID(record.uuid))
        seen.add(key)
        values = _pool_values(record)
        pool = existing.get(key)
        previous_state = pool.state if pool else None
        if pool is None:  # get_or_create: the watcher may have stored it meanwhile
            pool, _ = StoragePool.objects.get_or_create(host=host, uuid=key, defaults=values)
            changed = True
        elif any(getattr(pool, field) != value for field, value in values.items()):
            changed = changed or any(getattr(pool, field) != values[field] for field in VISIBLE_POOL_FIELDS)
            for field, value in values.items():
                setattr(pool, field, value)
            pool.save(update_fields=[*values, "updated_at"])
        if pool.state not in ACTIVE_POOL_STATES and pool.volumes_synced_at is not None:
            pool.volumes.all().delete()  # an inactive pool lists no volumes; they come back when it starts
            StoragePool.objects.filter(pk=pool.pk).update(volumes_synced_at=None)
            pool.volumes_synced_at = None
        if volumes_due(pool, previous_state):
            due.append(pool)
    gone = [pool.pk for key, pool in existing.items() if key not in seen]
    if gone:
        StoragePool.objects.filter(pk__in=gone).delete()
        changed = True
    if changed:
        publish("storage", host=host.pk)
    return due


@transaction.atomic
def apply_volumes(pool, records):
    """Make the pool's volume rows match a full listing of its volumes."""
    existing = {volume.name: volume for volume in Volume.objects.filter(pool=pool)}
    to_create, to_update = [], []
    for record in records:
        values = _volume_values(record)
        volume = existing.pop(record.name, None)
        if volume is None:
            to_create.append(Volume(pool=pool, name=record.name, **values))
        elif any(getattr(volume, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(volume, field, value)
            to_update.append(volume)
    Volume.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)  # an action may have stored one
    for volume in to_update:
        volume.save()
    if existing:
        Volume.objects.filter(pk__in=[volume.pk for volume in existing.values()]).delete()
    pool.volumes_synced_at = timezone.now()
    StoragePool.objects.filter(pk=pool.pk).update(volumes_synced_at=pool.volumes_synced_at)
    if to_create or to_update or existing:
        publish("storage", host=pool.host_id, pool=pool.pk)


def apply_pool(host, record, volumes=None):
    """Store one pool's record (after an action or event) and, if given, its volumes. None: the pool is gone."""
    if record is None:
        return None
    values = _pool_values(record)
    pool, _ = StoragePool.objects.update_or_create(host=host, uuid=str(uuidlib.UUID(record.uuid)), defaults=values)
    if volumes is not None:
        apply_volumes(pool, volumes)
    elif not pool.is_active and pool.volumes_synced_at is not None:
        pool.volumes.all().delete()
        StoragePool.objects.filter(pk=pool.pk).update(volumes_synced_at=None)
        pool.volumes_synced_at = None
    publish("storage", host=host.pk, pool=pool.pk)
    return pool


def apply_volume(pool, record):
    """Store one volume's record after an action that made or changed it."""
    volume, _ = Volume.objects.update_or_create(pool=pool, name=record.name, defaults=_volume_values(record))
    publish("storage", host=pool.host_id, pool=pool.pk, volume=volume.pk)
    return volume


def read_pool(conn, name):
    """(pool record, its volume records or None if inactive): what refresh_pool stores. On one connection."""
    record = virt_storage.collect_pool(conn, name)
    volumes = virt_volumes.collect_volumes(conn, name) if record is not None and record.active else None
    return record, volumes


def refresh_pool(host, name):
    """Re-read one pool and its volumes from the host and store them; the pool's row, or None if it is gone."""
    record, volumes = call(host, lambda conn: read_pool(conn, name))
    if record is None:
        StoragePool.objects.filter(host=host, name=name).delete()
        publish("storage", host=host.pk)
        return None
    return apply_pool(host, record, volumes)


def sync_host_storage(host):
    """The storage part of a host sync: every pool (constant RPCs per pool), then the volumes that are due.

    A storage failure is logged and leaves the rows as they were: it never marks the host unreachable
    (the domain sync decides that) and never stops the sync of the other pools.
    """
    sync_started = timezone.now()
    try:
        records = call(host, virt_storage.collect_pools)
    except VirtError as exc:
        log.warning("storage sync of %s: %s", host.name, exc.message)
        return None
    for pool in apply_pools(host, records, sync_started):
        try:
            apply_volumes(pool, call(host, lambda conn, name=pool.name: virt_volumes.collect_volumes(conn, name)))
        except VirtError as exc:
            log.warning("volumes of %s on %s: %s", pool.name, host.name, exc.message)
    return len(records)
