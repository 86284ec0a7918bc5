"""A VM's lifecycle: start, shutdown, force off, reboot, reset, suspend, resume, managed save and restore,
autostart, delete. The services behind its page, its API routes and the bulk actions.

Each action re-checks the live domain first (Domain.check: the row may be stale; for start and force off,
only when libvirt refuses it: Domain.explained, two RPCs per VM as a bare loop makes) and, once libvirt has
done it, re-reads the VM's row (services.refreshed), so the answer and the page show the new state.
`LIVE` is the libvirt part alone (no database), which bulk actions run for a host's VMs in one pool call.
Save and restore run as jobs (instances/lifecycle_jobs.py, run_long_action here).
"""
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext

from virt.errors import OperationInvalid, VirtError

from .choices import InstanceState
from .lifecycle_long import long_call
from .services import on_domain, refreshed

# Starting a VM with a saved state reads its memory back, and a force off waits for QEMU to exit (libvirt
# gives a stuck one about 30 s): longer than the pool's default call timeout.
SLOW_TIMEOUT = 120.0
# How long a shutdown request is remembered (it is cleared once the VM is seen stopped).
SHUTDOWN_MEMORY = 24 * 3600


def _checked(action, do):
    """fn(Domain) that checks `action` against the domain's state, then does it."""
    def run(dom):
        dom.check(action)
        return do(dom)
    return run


def _start(dom):
    # libvirt's create resumes a managed save image: that is a restore, and allowed as one. libvirt refuses
    # it only for an active VM, as the table does (every defined shut-off VM allows start or restore).
    dom.explained("start", lambda d: d.start())


def _check_restore(dom):
    if not dom.has_managed_save():
        raise OperationInvalid(gettext("%(name)s has no saved state to restore.") % {"name": dom.name})
    dom.check("restore")


def _restore(dom):
    _check_restore(dom)
    dom.restore()


def _discard_save(dom):
    if not dom.has_managed_save():
        raise OperationInvalid(gettext("%(name)s has no saved state to discard.") % {"name": dom.name})
    dom.check("discard_save")
    dom.managed_save_remove()


# API name -> (fn(Domain) checking and doing it, call timeout or None for the pool's default).
LIVE = {
    "start": (_start, SLOW_TIMEOUT),
    "shutdown": (_checked("shutdown", lambda dom: dom.shutdown()), None),
    # libvirt refuses to force off exactly what the table does (a VM that is not running): no guard first.
    "destroy": (lambda dom: dom.explained("destroy", lambda d: d.destroy()), SLOW_TIMEOUT),
    "reboot": (_checked("reboot", lambda dom: dom.reboot()), None),
    "reset": (_checked("reset", lambda dom: dom.reset()), None),
    "suspend": (_checked("suspend", lambda dom: dom.suspend()), None),
    "resume": (_checked("resume", lambda dom: dom.resume()), None),
    "save": (_checked("save", lambda dom: dom.managed_save()), None),  # jobs, on a connection of their own:
    "restore": (_restore, None),  # no call timeout (lifecycle_long.long_call)
    "discard_save": (_discard_save, None),
    "autostart_on": (_checked("autostart", lambda dom: dom.set_autostart(True)), None),
    "autostart_off": (_checked("autostart", lambda dom: dom.set_autostart(False)), None),
}


# The actions that run as jobs (instances/lifecycle_jobs.py): their live state guard, run in the request first.
JOB_GUARDS = {"save": lambda dom: dom.check("save"), "restore": _check_restore}


def check_live(instance, name):
    """Action `name`'s guard against the live domain (OperationInvalid says why), without doing it."""
    on_domain(instance, JOB_GUARDS[name])


def run_long_action(instance, job, name):
    """A job's work: action `name` (save, restore) on its own connection (lifecycle_long.long_call), then the
    notes and the row re-read as after any action. Returns {"instance", "state"}."""
    fn, _timeout = LIVE[name]
    long_call(instance.host, job, str(instance.uuid), fn)
    after_act(instance, name)
    row = refreshed(instance)
    return {"instance": instance.pk, "state": row.state if row else None}


def act(instance, name):
    """Do action `name` on the VM through libvirt, without touching the database (see LIVE)."""
    fn, timeout = LIVE[name]
    on_domain(instance, fn, timeout=timeout)
    after_act(instance, name)


def after_act(instance, name):
    """What virtdeck notes after an action succeeded: a shutdown request's time (see pending_shutdown), and
    whether the VM now has a saved state (see note_saved_state)."""
    if name == "shutdown":
        cache.set(_shutdown_key(instance), timezone.now(), SHUTDOWN_MEMORY)
    elif name in ("destroy", "start", "restore", "save"):
        cache.delete(_shutdown_key(instance))
    if name in ("save", "start", "restore", "discard_save"):
        cache.set(_saved_key(instance), name == "save", SHUTDOWN_MEMORY)


def _service(name):
    def service(instance):
        act(instance, name)
        return refreshed(instance)
    service.__name__ = name
    service.__doc__ = f"{name} the VM, then re-read its row (None if it is gone)."
    return service


start = _service("start")
shutdown = _service("shutdown")
destroy = _service("destroy")
reboot = _service("reboot")
reset = _service("reset")
suspend = _service("suspend")
resume = _service("resume")
discard_save = _service("discard_save")
autostart_on = _service("autostart_on")
autostart_off = _service("autostart_off")


# Shutdown requests. An ACPI shutdown only asks the guest: one without an OS (or one that ignores the power
# button) keeps running. The page then says when it was asked and, after a grace period, offers force off.

def _shutdown_key(instance):
    return f"instances:shutdown-requested:{instance.pk}"


def pending_shutdown(instance):
    """{"requested_at", "overdue"} for a VM asked to shut down that the inventory still shows running, else None.

    overdue: the grace period (settings.INSTANCE_SHUTDOWN_GRACE seconds) has passed: time to offer force off.
    """
    requested_at = cache.get(_shutdown_key(instance))
    if requested_at is None:
        return None
    if not instance.is_active:
        cache.delete(_shutdown_key(instance))
        return None
    grace = timedelta(seconds=settings.INSTANCE_SHUTDOWN_GRACE)
    return {"requested_at": requested_at, "overdue": timezone.now() - requested_at >= grace}


def _saved_key(instance):
    return f"instances:managed-save:{instance.pk}"


def note_saved_state(instance, live=True):
    """Set instance.managed_save (whether a shut-off VM has a saved state: the row does not hold it), so its
    page offers restore rather than start. live: ask the host (and remember the answer); else use what was
    last learnt, if anything. Left unset when unknown (then actions.allows offers both)."""
    if instance.state != InstanceState.SHUTOFF:
        instance.managed_save = False  # libvirt keeps a saved state only for a VM that is shut off
        return instance
    if live:
        try:
            known = on_domain(instance, lambda dom: dom.is_persistent() and dom.has_managed_save())
        except VirtError:
            return instance
        cache.set(_saved_key(instance), known, SHUTDOWN_MEMORY)
    else:
        known = cache.get(_saved_key(instance))
    if known is not None:
        instance.managed_save = known
    return instance


def delete(instance, delete_volumes=False):
    """Undefine the shut-off VM (with its snapshots' metadata, managed save and UEFI variables) and, with
    delete_volumes, delete its disk images through their pools. Returns {"deleted": [...], "left": [...]}
    (virt/domain_delete.py: which images are the VM's, and why one is left). Its row goes too."""
    report = on_domain(instance, lambda dom: dom.delete(delete_volumes=delete_volumes), timeout=SLOW_TIMEOUT)
    refreshed(instance)
    return report
