"""Full clone of a VM on its host: new name, UUID and MACs; every writable disk copied into a chosen pool.

`check_clone` runs in the request (400 naming the field, 409 while the source runs without
`paused_copy`); the job (instances/creation_tasks.py) runs `run_clone`: copies with progress, defines the
clone, and on failure removes the copies it made. A shut-off source is copied by qemu-img on the host as a
long operation (Pool.run_long, the new volume's allocation polled). A running source is copied only when
asked to, paused meanwhile (crash-consistent: as if its power had been cut at that moment) and resumed
after; its disks are copied by QEMU (a block copy), because qemu-img cannot open an image a running QEMU
holds, even paused (measured on the lab: "Failed to get shared 'write' lock").
"""
import time

from django.utils.translation import gettext as _

from core.jobs import JobCancelled
from hosts.connection import call, connection_spec, pool
from virt.clone import block_copy_status, clone_xml, end_block_copy, source_disks, start_block_copy
from virt.domain import Domain, define
from virt.errors import OperationInvalid, VirtError
from virt.host_choices import domain_name_taken
from virt.inventory import ACTIVE_STATES
from virt.names import NAME_PROBLEMS, name_problem
from virt.storage import collect_pool
from virt.volumes import clone_volume, collect_volume, create_volume, delete_volume

from .builder import AnswerErrors
from .inventory import refresh_one

POLL_INTERVAL = 0.5  # seconds between progress reads of a block copy


def _facts(conn, uuid, name, pool_name):
    domain = Domain.lookup(conn, uuid)
    xml = domain.xml_desc(inactive=True)
    disks = source_disks(conn, xml)
    target = collect_pool(conn, pool_name)
    taken = [d.clone_name(name) for d in disks
             if target is not None and target.active and collect_volume(conn, pool_name, d.clone_name(name))]
    return {"state": domain.state(), "name_taken": domain_name_taken(conn, name), "disks": disks,
            "pool": None if target is None else target.active, "volumes_taken": taken}


def check_clone(instance, name, pool_name, paused_copy=False):
    """The clone's job kwargs, or AnswerErrors / OperationInvalid before anything is made."""
    errors = {}
    for field, value in (("name", name), ("pool", pool_name)):
        problem = name_problem(value)
        if problem:
            errors[field] = _(NAME_PROBLEMS[problem])
    if errors:
        raise AnswerErrors(errors)
    facts = call(instance.host, lambda conn: _facts(conn, str(instance.uuid), name, pool_name))
    if facts["name_taken"]:
        errors["name"] = _("A VM named %(name)s already exists on this host.") % {"name": name}
    if facts["pool"] is None:
        errors["pool"] = _("This host has no storage pool named %(pool)s.") % {"pool": pool_name}
    elif not facts["pool"]:
        errors["pool"] = _("Pool %(pool)s is not running.") % {"pool": pool_name}
    elif facts["volumes_taken"]:
        errors["pool"] = _("Pool %(pool)s already holds %(volumes)s.") % {
            "pool": pool_name, "volumes": ", ".join(facts["volumes_taken"])}
    if errors:
        raise AnswerErrors(errors)
    if facts["state"] in ACTIVE_STATES and not paused_copy:
        raise OperationInvalid(_("%(vm)s is running: shut it down first, or ask for a crash-consistent copy "
                                 "(paused_copy), which pauses it while its disks are copied.") % {"vm": instance})
    return {"host_id": instance.host_id, "source_uuid": str(instance.uuid), "name": name, "pool": pool_name,
            "paused_copy": bool(paused_copy)}


def _report(job, done_bytes, now_bytes, total):
    """Progress of the copies into 10-90 % of the job; a cancel asked meanwhile is acted on between disks."""
    try:
        job.progress(10 + 80 * min(total, done_bytes + now_bytes) // max(total, 1))
    except JobCancelled:
        pass  # a copy is not stopped halfway: the cancel takes effect after it, and removes the copies


def _copy_offline(host, job, disk, pool_name, name, done_bytes, total):
    """A shut-off VM's disk copied by qemu-img on the host (createXMLFrom) as a long operation; progress from
    the new volume's allocation, polled on the shared connection every 0.5 s."""
    new_name = disk.clone_name(name)

    def poll():
        record = call(host, lambda conn: collect_volume(conn, pool_name, new_name))
        if record is not None:
            _report(job, done_bytes, record.allocation, total)

    pool().run_long(connection_spec(host, key=f"clone-{job.id}"),
                    lambda conn: clone_volume(conn, disk.pool, disk.volume, new_name, target_pool=pool_name),
                    poll=poll)
    return new_name


def _copy_running(host, job, uuid, disk, pool_name, name, done_bytes, total, made_volumes):
    """A running (paused) VM's disk copied by QEMU's block copy into a volume made first."""
    new_name = disk.clone_name(name)
    record = call(host, lambda conn: create_volume(conn, pool_name, new_name, disk.capacity,
                                                   volume_format=disk.format))
    made_volumes.append(new_name)
    call(host, lambda conn: start_block_copy(conn, uuid, disk.target, record.path, disk.format))
    try:
        while True:
            copied, size, ready = call(host, lambda conn: block_copy_status(conn, uuid, disk.target))
            _report(job, done_bytes, disk.allocation * copied // max(size, 1), total)
            if ready:
                break
            time.sleep(POLL_INTERVAL)
    finally:
        call(host, lambda conn: end_block_copy(conn, uuid, disk.target))
    return new_name


def run_clone(host, job, source_uuid, name, pool, paused_copy=False):
    """The job's work; returns {"instance": pk, "uuid", "name"} of the clone."""
    facts = call(host, lambda conn: _facts(conn, source_uuid, name, pool))
    live = facts["state"] in ACTIVE_STATES  # QEMU holds the disks: they are copied by a block copy
    if live and not paused_copy:
        raise OperationInvalid(_("The source is %(state)s: a clone of a running VM needs paused_copy.")
                               % {"state": facts["state"]})
    paused = False  # by this job, so to be resumed by it
    made_volumes, new_uuid = [], None
    try:
        if facts["state"] == "running":
            call(host, lambda conn: Domain.lookup(conn, source_uuid).suspend())
            paused = True
            job.log(_("source paused for a crash-consistent copy"))
        total, done_bytes, new_disks = sum(d.allocation for d in facts["disks"]), 0, {}
        for disk in facts["disks"]:
            job.progress(10 + 80 * done_bytes // max(total, 1), f"copying {disk.pool}/{disk.volume} into {pool}")
            if live:
                new_name = _copy_running(host, job, source_uuid, disk, pool, name, done_bytes, total, made_volumes)
            else:
                new_name = _copy_offline(host, job, disk, pool, name, done_bytes, total)
                made_volumes.append(new_name)
            new_disks[disk.target] = (pool, new_name)
            done_bytes += disk.allocation
        if paused:
            call(host, lambda conn: Domain.lookup(conn, source_uuid).resume())
            paused = False
        job.progress(92, _("defining the clone"))
        source_xml = call(host, lambda conn: Domain.lookup(conn, source_uuid).xml_desc(inactive=True, secure=True))
        new_uuid = call(host, lambda conn: define(conn, clone_xml(source_xml, name, new_disks)).uuid)
    except Exception as exc:  # noqa: BLE001 - a cancel or any failure removes the copies made so far
        removed = []
        for volume in made_volumes:
            try:
                call(host, lambda conn, v=volume: delete_volume(conn, pool, v))
                removed.append(f"{pool}/{volume}")
            except VirtError as cleanup:
                job.log(_("could not remove %(pool)s/%(volume)s: %(error)s")
                        % {"pool": pool, "volume": volume, "error": cleanup.message}, level="error")
        if not isinstance(exc, VirtError):
            raise
        raise type(exc)(exc.message + (f" (removed: {', '.join(removed)})" if removed else "")) from None
    finally:
        if paused:
            try:
                call(host, lambda conn: Domain.lookup(conn, source_uuid).resume())
            except VirtError as exc:
                job.log(_("could not resume the source: %(error)s") % {"error": exc.message}, level="error")
    row = refresh_one(host, new_uuid)
    job.progress(100, _("cloned into %(name)s") % {"name": name})
    return {"instance": row.pk if row else None, "uuid": new_uuid, "name": name}
