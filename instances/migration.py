"""Live migration of a VM to another host, shared by its page and /api/instances/<id>/migrate/.

- precheck(instance): every other host, can / cannot and why (the reads: virt/migration.py; the
  rules: `verdict`, pure).
- check_request(instance, target, options): the request against the precheck (400 keyed by field when it
  cannot work); instances/migration_jobs.py starts the job after it.
- move_instance(): on success the VM's row moves to the target host, keeping its pk (URL, job
  history). The inventory's sync and events are made safe against that move in instances/inventory.py.
"""
import dataclasses
from concurrent.futures import ThreadPoolExecutor

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from core.events import publish
from core.models import Job
from hosts.connection import call
from hosts.models import Host, libvirt_host_uri
from virt import migration as virt_migration
from virt.errors import VirtError

from . import totals
from .models import Instance

JOB_KIND = "migrate"
# Hosts a precheck asks at once. Each thread mostly waits on its host, and each call is bounded by the
# pool's connect and call timeouts, so a hung host costs its own timeout, not the sum over hosts.
PRECHECK_THREADS = 8


def verdict(vm, target, facts, error=None):
    """Can `vm` (virt.migration.vm_facts) move to `target` (a Host) offering `facts` (host_facts)? Pure.

    Returns {"can", "reasons", "warnings", "storage", "needs_unsafe"}: reasons say why not; storage is
    the mode that fits ("shared" or "copy_all"); needs_unsafe when the disks sit in a plain directory
    both hosts see, which libvirt cannot know to be shared.
    """
    reasons, warnings = [], []
    if target.state != Host.State.UP:
        reasons.append(_("The host is not reachable: %(error)s") % {"error": target.last_error or target.state})
    if error:
        reasons.append(_("The host could not be asked: %(error)s") % {"error": error})
    if not vm["active"]:
        reasons.append(_("The VM is not running: live migration moves a running VM."))
    if reasons or facts is None:
        return {"can": False, "reasons": reasons, "warnings": warnings, "storage": None, "needs_unsafe": False}
    if facts["cpu"]["ok"] is False:
        reasons.append(_("The VM's CPU is not compatible with this host's: %(detail)s") % facts["cpu"])
    for name, active in facts["networks"].items():
        if not active:
            reasons.append(_("The VM's network '%(name)s' does not exist or is not active on this host.")
                           % {"name": name})
    for name, present in facts["bridges"].items():
        if present is False:
            reasons.append(_("The VM's bridge '%(name)s' does not exist on this host.") % {"name": name})
        elif present is None:
            warnings.append(_("This host's libvirt cannot list interfaces: bridge '%(name)s' was not checked.")
                            % {"name": name})
    if vm["emulator"] and vm["emulator"] not in facts["emulators"]:
        reasons.append(_("This host has no emulator %(emulator)s for %(arch)s.") % vm)
    if vm["machine"] and vm["machine"] not in facts["machines"]:
        reasons.append(_("This host's QEMU does not offer the machine type %(machine)s.") % vm)
    if facts["clash"]:
        reasons.append(_("A VM with the same name or UUID is already defined there: %(name)s.")
                       % {"name": facts["clash"]})
    if facts["free_memory_kib"] < vm["memory_kib"]:
        reasons.append(_("Not enough free memory: the VM needs %(need)d MiB, the host has %(free)d MiB free.")
                       % {"need": vm["memory_kib"] // 1024, "free": facts["free_memory_kib"] // 1024})
    storage, needs_unsafe = _storage(vm, facts, reasons, warnings)
    return {"can": not reasons, "reasons": reasons, "warnings": warnings, "storage": storage,
            "needs_unsafe": needs_unsafe}


def _storage(vm, facts, reasons, warnings):
    writable = [disk for disk in vm["disks"] if not disk["readonly"]]
    seen = [disk for disk in writable if facts["disks"][disk["path"]]["seen"]]
    if not writable or len(seen) == len(writable):
        plain = sorted({disk["path"] for disk in seen
                        if facts["disks"][disk["path"]]["pool_type"] not in virt_migration.SHARED_POOL_TYPES})
        if plain:
            warnings.append(_(
                "Both hosts see %(paths)s in a plain directory. libvirt trusts only network filesystems and "
                "cluster storage to be shared, so if this really is one directory both hosts share, the "
                "migration needs 'unsafe'. If each host has its own file at that path, do not migrate: "
                "the VM would run on another disk.") % {"paths": ", ".join(plain)})
        return "shared", bool(plain)
    if seen:
        reasons.append(_("Some disks are on storage this host sees and some are not (%(paths)s): "
                         "neither shared storage nor a full copy fits.") % {"paths": ", ".join(d["path"] for d in seen)})
        return None, False
    for disk in writable:
        directory = disk["path"].rsplit("/", 1)[0]
        pool = next((p for p in facts["pools"] if (p["path"] or "").rstrip("/") == directory), None)
        if pool is None:
            reasons.append(_("Copying the disks needs a storage pool at %(dir)s on this host (for %(path)s).")
                           % {"dir": directory, "path": disk["path"]})
        elif disk["capacity"] is not None and pool["available"] < disk["capacity"]:
            reasons.append(_("Pool %(pool)s has %(free)d MiB free; %(path)s needs %(need)d MiB.")
                           % {"pool": pool["name"], "free": pool["available"] // 2**20, "path": disk["path"],
                              "need": disk["capacity"] // 2**20})
    return "copy_all", False


def _check_target(vm, target):
    if target.state != Host.State.UP:
        return verdict(vm, target, None)
    try:
        facts = call(target, lambda conn: virt_migration.host_facts(conn, vm))
    except VirtError as exc:
        return verdict(vm, target, None, error=exc.message)
    return verdict(vm, target, facts)


def candidates(instance):
    return Host.objects.exclude(pk=instance.host_id).order_by("name")


def vm_facts(instance):
    """What the VM needs of a target (a few reads on its host). VirtError when its host cannot answer."""
    return call(instance.host, lambda conn: virt_migration.vm_facts(conn, str(instance.uuid)))


def precheck(instance, targets=None):
    """[{"host": Host, "can", "reasons", "warnings", "storage", "needs_unsafe"}] for every other host.

    The hosts are asked in parallel (check_targets)."""
    vm = vm_facts(instance)
    targets = list(targets or candidates(instance))
    return [{"host": target, **result} for target, result in zip(targets, check_targets(vm, targets))]


def check_targets(vm, targets):
    """The verdict of each target host for the VM (`vm_facts`), in the order given: one thread per host, at
    most PRECHECK_THREADS. The threads only talk to libvirt (no database)."""
    if len(targets) < 2:
        return [_check_target(vm, target) for target in targets]
    language = translation.get_language()  # the request's: a new thread starts with the default

    def check(target):
        with translation.override(language):
            return _check_target(vm, target)

    with ThreadPoolExecutor(max_workers=min(PRECHECK_THREADS, len(targets)),
                            thread_name_prefix="precheck") as threads:
        return list(threads.map(check, targets))


def check_request(instance, target, options):
    """Refuse (ValidationError keyed by field) a migration the precheck says cannot work as asked."""
    if target.pk == instance.host_id:
        raise ValidationError({"target_host": _("The VM already runs on this host.")})
    if options.storage not in virt_migration.STORAGE_MODES:
        raise ValidationError({"storage": _("Choose one of: %(modes)s.")
                               % {"modes": ", ".join(virt_migration.STORAGE_MODES)}})
    if options.post_copy and not options.live:
        raise ValidationError({"post_copy": _("Post-copy needs a live migration.")})
    if options.tunnelled and not options.peer2peer:
        raise ValidationError({"tunnelled": _("A tunnelled migration needs peer2peer.")})
    if options.undefine_source and not options.persistent:
        raise ValidationError({"undefine_source": _("Undefining the source needs 'persistent' (the VM "
                                                    "would be defined nowhere once it stops).")})
    result = precheck(instance, [target])[0]
    if not result["can"]:
        raise ValidationError({"target_host": result["reasons"]})
    wants_copy = options.storage != "shared"
    if (result["storage"] == "shared") == wants_copy:
        raise ValidationError({"storage": _("This host needs storage '%(mode)s' for this VM.")
                               % {"mode": result["storage"]}})
    if result["needs_unsafe"] and not options.unsafe:
        raise ValidationError({"unsafe": result["warnings"]})
    return result


def running_migration(instance):
    return Job.objects.filter(kind=JOB_KIND, target_kind=Instance.job_target_kind, target_id=str(instance.pk),
                              status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).first()


def switch_to_post_copy(instance, job):
    """Switch the running migration to post-copy: the VM runs on the target from now on, fetching the
    pages it still lacks. Needs a migration started with post_copy."""
    if not job.params.get("options", {}).get("post_copy"):
        raise ValidationError({"post_copy": _("This migration was not started with post_copy.")})
    source = Host.objects.get(pk=job.params["source_id"])
    call(source, lambda conn: virt_migration.start_post_copy(conn, str(instance.uuid)))


def destination_uri(target):
    """The libvirt URI the source's libvirtd uses to reach the target: its own, at `migration_address`."""
    parsed = libvirt_host_uri(target.uri)
    if target.migration_address:
        parsed = dataclasses.replace(parsed, hostname=target.migration_address)
    return parsed.build()


@transaction.atomic
def move_instance(instance_id, source, target):
    """Move the VM's row to the target host, keeping its pk. Returns whether it moved.

    The target's sync or watcher may have inserted a row of its own for the incoming VM (same UUID) while
    the migration ran: that row has no history, so it goes and ours takes its place.
    """
    row = Instance.objects.select_for_update().filter(pk=instance_id, host=source).first()
    if row is None:
        return False
    Instance.objects.filter(host=target, uuid=row.uuid).exclude(pk=row.pk).delete()
    Instance.objects.filter(pk=row.pk).update(host=target, updated_at=timezone.now())
    totals.refresh([source.pk, target.pk])
    transaction.on_commit(lambda: publish("instance", id=row.pk, host=target.pk, uuid=str(row.uuid), moved=True))
    return True


def migrating_pks(pks):
    """The rows among `pks` whose migration job is queued or running: a sync or event must not delete them."""
    ids = Job.objects.filter(kind=JOB_KIND, target_kind=Instance.job_target_kind,
                             status__in=(Job.Status.QUEUED, Job.Status.RUNNING),
                             target_id__in=[str(pk) for pk in pks]).values_list("target_id", flat=True)
    return {int(pk) for pk in ids}

