"""Pool and volume actions, shared by pages, API and tasks. Every libvirt call goes through virt/ and
hosts.connection.call; each action stores what it changed (storage.inventory), so lists stay right
without waiting for the next sync."""
from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext as _

from core import jobs
from core.permissions import restrict
from hosts.connection import call
from instances.choices import InstanceState
from instances.models import Instance
from virt import storage as virt_storage
from virt import volumes as virt_volumes
from virt.errors import InvalidConfig, OperationFailed, OperationInvalid
from virt.names import check_name
from virt.volume_users import domains_using
from virt.xml.storage import VOLUME_FORMATS, build_pool, check_format, check_size

from . import inventory, tasks
from .models import StoragePool, Volume

# --------------------------------------------------------------------------- pools


def pool_types(host):
    """virt.storage.PoolCapabilities of the host: the pool types it supports (one short call)."""
    return call(host, virt_storage.pool_capabilities)


def create_pool(host, pool_type, name, fields, *, build=True, start=True, autostart=False):
    """Define (build, start) a pool of a type the host supports; its row. Input is checked before libvirt."""
    pool_xml = build_pool(pool_type, name, **fields)  # InvalidConfig naming the field
    if StoragePool.objects.filter(host=host, name=name).exists():
        raise InvalidConfig(_("A pool named %(name)s exists on %(host)s already.") % {"name": name, "host": host})

    def define(conn):
        supported = virt_storage.pool_capabilities(conn)
        if pool_type not in {support.type for support in supported.types}:
            raise InvalidConfig(_("%(host)s does not support %(type)s pools.") % {"host": host, "type": pool_type})
        record = virt_storage.define_pool(conn, pool_xml, build=build, start=start, autostart=autostart)
        return record, (virt_volumes.collect_volumes(conn, name) if record.active else None)

    try:
        record, volumes = call(host, define)
    except OperationFailed as exc:
        # Building or starting a new pool fails on what the user gave (a missing path or device, an NFS
        # server that does not answer): bad input, and define_pool has undefined the pool again.
        raise InvalidConfig(_("The pool could not be built or started: %(error)s") % {"error": exc.message}) from None
    return inventory.apply_pool(host, record, volumes)


def _pool_action(pool, fn, *args):
    """Run fn(conn, pool name, *args) and re-read the pool and its volumes in the same call; the stored row."""

    def run(conn):
        fn(conn, pool.name, *args)
        return inventory.read_pool(conn, pool.name)

    record, volumes = call(pool.host, run)
    return inventory.apply_pool(pool.host, record, volumes) or pool


def start_pool(pool):
    return _pool_action(pool, virt_storage.start_pool)


def stop_pool(pool):
    return _pool_action(pool, virt_storage.stop_pool)


def refresh_pool(pool):
    """libvirt re-scans the pool's storage (files copied in by hand appear); the rows follow."""
    return _pool_action(pool, virt_storage.refresh_pool)


def set_pool_autostart(pool, enabled):
    if not isinstance(enabled, bool):
        raise InvalidConfig(_("autostart: expected true or false."))
    return _pool_action(pool, virt_storage.set_pool_autostart, enabled)


def toggle_pool_autostart(pool):
    return set_pool_autostart(pool, not pool.autostart)


def delete_pool(pool, delete_storage=False):
    """Stop and undefine the pool (its storage stays unless delete_storage, where its type allows)."""
    call(pool.host, lambda conn: virt_storage.delete_pool(conn, pool.name, delete_storage=delete_storage))
    pool.delete()


# --------------------------------------------------------------------------- volumes


def _check_new_volume(pool, name):
    check_name(name, "volume name")
    if not pool.is_active:
        raise OperationInvalid(_("Pool %(pool)s is not running: start it first.") % {"pool": pool})
    if pool.volumes.filter(name=name).exists():
        raise InvalidConfig(_("A volume named %(name)s exists in %(pool)s already.") % {"name": name, "pool": pool})


def create_volume(pool, name, capacity, volume_format="raw", allocation="thin"):
    """A new volume in `pool`; its row. Names, sizes, format and policy are checked before libvirt."""
    _check_new_volume(pool, name)
    check_size(capacity, "capacity")
    check_format(volume_format)

    def create(conn):
        volume = virt_volumes.create_volume(conn, pool.name, name, capacity, volume_format=volume_format,
                                            allocation=allocation)
        return volume, virt_storage.collect_pool(conn, pool.name)

    record, pool_record = call(pool.host, create)
    inventory.apply_pool(pool.host, pool_record)
    return inventory.apply_volume(pool, record)


def resize_volume(volume, capacity, shrink=False):
    pool = volume.pool
    check_size(capacity, "capacity")
    record = call(pool.host, lambda conn: virt_volumes.resize_volume(conn, pool.name, volume.name, capacity,
                                                                     shrink=shrink))
    return inventory.apply_volume(pool, record)


def volume_users(volume):
    """The host's domains whose disks use the volume (live XML; see virt.volume_users)."""
    pool = volume.pool
    return call(pool.host, lambda conn: domains_using(conn, {volume.path, volume.key}, pool.name, volume.name))


def attach_synced_users(volumes, user):
    """Set each volume's `synced_users`: the VMs `user` may see whose disks had the volume's path on its host at
    their last sync or event (instances.InstanceDisk), by name. One query for all the volumes, whatever their
    number: what lists show. A volume's page and the delete check ask the host instead (volume_users)."""
    volumes = list(volumes)
    wanted = {(volume.pool.host_id, volume.path) for volume in volumes if volume.path}
    found = {}
    if wanted:
        vms = (restrict(Instance.objects.all(), user)
               .filter(host_id__in={host for host, _path in wanted}, disks__path__in={path for _host, path in wanted})
               .annotate(disk_path=F("disks__path")).only("pk", "name", "host_id").order_by("name", "pk").distinct())
        for vm in vms:
            found.setdefault((vm.host_id, vm.disk_path), []).append(vm)
    for volume in volumes:
        volume.synced_users = found.get((volume.pool.host_id, volume.path), []) if volume.path else []
    return volumes


def volume_dependents(volume):
    """Volumes in the inventory backed by this one (a qcow2 overlay's base)."""
    if not volume.path:
        return Volume.objects.none()
    return Volume.objects.filter(pool__host=volume.pool.host_id, backing_path=volume.path).select_related("pool")


@dataclass(frozen=True)
class BackingLink:
    """One backing file of a volume's chain; `volume` is its row, None for a file outside the inventory."""

    path: str
    format: str
    volume: Volume | None


MAX_BACKING_CHAIN = 16  # qemu refuses deeper chains long before; this only bounds a loop in stale rows


def backing_chain(volume):
    """The volume's backing files, nearest first (attach_backing_chains)."""
    return attach_backing_chains([volume])[0].backing_chain


def attach_backing_chains(volumes):
    """Set each volume's `backing_chain`: its backing files as BackingLinks, nearest first. libvirt's volume XML
    names only the first, so the others are looked up in the inventory of the volume's host; a chain stops at a
    file that is no volume of the host, or at a loop. One query per level of the deepest chain, whatever the
    number of volumes: what lists show."""
    volumes = list(volumes)
    rows = {}  # (host id, path) -> its Volume, None when the inventory has none
    wanted = {(volume.pool.host_id, volume.backing_path) for volume in volumes if volume.backing_path}
    for _level in range(MAX_BACKING_CHAIN):
        wanted -= rows.keys()
        if not wanted:
            break
        found = {(row.pool.host_id, row.path): row for row in Volume.objects.filter(
            pool__host__in={host for host, _path in wanted}, path__in={path for _host, path in wanted},
        ).select_related("pool")}
        for key in wanted:
            rows[key] = found.get(key)
        wanted = {(host, row.backing_path) for (host, _path), row in found.items() if row.backing_path}
    for volume in volumes:
        host, chain, seen = volume.pool.host_id, [], {volume.path}
        path, volume_format = volume.backing_path, volume.backing_format
        while path and path not in seen and len(chain) < MAX_BACKING_CHAIN:
            seen.add(path)
            row = rows.get((host, path))
            chain.append(BackingLink(path, volume_format, row))
            if row is None:
                break
            path, volume_format = row.backing_path, row.backing_format
        volume.backing_chain = chain
    return volumes


def delete_volume(volume):
    """Delete the volume and its data; refused while a VM's disk or another volume's backing chain uses it."""
    users = volume_users(volume)
    if users:
        raise InvalidConfig(_("%(volume)s is in use by %(vms)s: detach it or delete those VMs first.")
                            % {"volume": volume, "vms": ", ".join(user.name for user in users)})
    dependents = list(volume_dependents(volume))
    if dependents:
        raise InvalidConfig(_("%(volume)s is the backing file of %(volumes)s: delete those first.")
                            % {"volume": volume, "volumes": ", ".join(str(v) for v in dependents)})
    pool = volume.pool

    def delete(conn):
        # Already gone from the host (deleted outside virtdeck): then only the row goes.
        if virt_volumes.collect_volume(conn, pool.name, volume.name) is not None:
            virt_volumes.delete_volume(conn, pool.name, volume.name)
        return virt_storage.collect_pool(conn, pool.name)

    pool_record = call(pool.host, delete)
    volume.delete()
    inventory.apply_pool(pool.host, pool_record)


def _start_copy(task, volume, name, target_pool, volume_format, allocation, user, **extra):
    """Check a copy of `volume` and queue it as a job: a refused copy leaves no job."""
    target_pool = target_pool or volume.pool
    if target_pool.host_id != volume.pool.host_id:
        raise InvalidConfig(_("pool: a volume is copied within its host; %(pool)s is on another host.")
                            % {"pool": target_pool})
    _check_new_volume(target_pool, name)
    if volume_format is not None:
        check_format(volume_format)
    elif volume.format not in VOLUME_FORMATS:
        raise InvalidConfig(_("format: the source is %(format)s; choose raw or qcow2 for the copy.")
                            % {"format": volume.format or volume.type})
    virt_volumes.check_policy(name, None, volume_format, allocation)
    return jobs.enqueue(task, user=user, target=volume, host=volume.pool.host, volume_id=volume.pk, name=name,
                        target_pool_id=target_pool.pk, volume_format=volume_format, allocation=allocation, **extra)


def clone_volume(volume, name, *, target_pool=None, volume_format=None, allocation="thin", user=None):
    """Start a job copying the volume into a new one (same or another pool of its host); the Job."""
    return _start_copy(tasks.clone_volume, volume, name, target_pool, volume_format, allocation, user)


def converted_name(volume, volume_format):
    """disk.raw -> disk.qcow2; a name without a known suffix gets one."""
    stem = volume.name.rsplit(".", 1)[0] if volume.name.rsplit(".", 1)[-1] in ("raw", "qcow2", "img") else volume.name
    return f"{stem}.{volume_format}"


def convert_volume(volume, volume_format, allocation="thin", *, name=None, target_pool=None, instance=None,
                   user=None):
    """Start a job converting the volume (raw <-> qcow2, thin <-> thick) into a new one; the source stays.

    With `instance` (a shut-off VM of the same host whose disk is the volume), the VM then uses the new one.
    """
    check_format(volume_format)
    name = name or converted_name(volume, volume_format)
    extra = {}
    if instance is not None:
        if instance.host_id != volume.pool.host_id or instance.state != InstanceState.SHUTOFF:
            raise InvalidConfig(_("instance: %(vm)s must be a shut-off VM of %(host)s.")
                                % {"vm": instance, "host": volume.pool.host})
        if str(instance.uuid) not in {vm.uuid.lower() for vm in volume_users(volume)}:
            raise InvalidConfig(_("instance: %(vm)s has no disk on %(volume)s.") % {"vm": instance, "volume": volume})
        extra["instance_id"] = instance.pk
    return _start_copy(tasks.convert_volume, volume, name, target_pool, volume_format, allocation, user, **extra)
