"""What users do to a VM, declared once for its page, /api/instances/ and the bulk actions (core/actions.py).

Each action is offered when the row's state allows it (virt/lifecycle.py's table, the same one the
service checks against the live domain before calling libvirt).
"""
from dataclasses import replace
from functools import partial

from django.utils.translation import gettext_lazy as _

from core.actions import Action
from virt import lifecycle as rules

from . import lifecycle, lifecycle_jobs


def allows(rule):
    """allowed(vm) for the lifecycle rule `rule`, from the row (no libvirt).

    A row does not know whether a shut-off VM has a saved state: its page sets vm.managed_save
    (lifecycle.note_saved_state). Where it is unknown, what either case allows passes here, and the
    service's check against the live domain decides.
    """
    def allowed(vm):
        known = getattr(vm, "managed_save", None)
        cases = (False, True) if known is None else (bool(known),)
        return any(rule in rules.allowed_actions(vm.state, persistent=vm.persistent, managed_save=case)
                   for case in cases)
    return allowed


def _autostart(enabled):
    def allowed(vm):
        return allows("autostart")(vm) and vm.autostart != enabled
    return allowed


START = Action("start", _("Start"), service=lifecycle.start, allowed=allows("start"), icon="play-fill",
               message=_("%(object)s started."))
# Save and restore read or write the VM's whole memory: jobs (instances/lifecycle_jobs.py), whose page shows
# the progress; the live state is checked before the job is queued.
RESTORE = Action("restore", _("Restore"), task=lifecycle_jobs.restore_task,
                 enqueue_kwargs=lifecycle_jobs.checked_kwargs("restore"), allowed=allows("restore"),
                 icon="play-circle", show_job=True,
                 message=_("%(object)s resumes from its saved state: job #%(job)s."))
SHUTDOWN = Action("shutdown", _("Shut down"), service=lifecycle.shutdown, allowed=allows("shutdown"),
                  icon="power", message=_("Shutdown of %(object)s requested: the guest decides when it stops "
                                          "(a guest that ignores it keeps running; then force it off)."))
REBOOT = Action("reboot", _("Reboot"), service=lifecycle.reboot, allowed=allows("reboot"),
                icon="arrow-repeat", message=_("Reboot of %(object)s requested from the guest."))
RESET = Action("reset", _("Reset"), service=lifecycle.reset, allowed=allows("reset"), icon="bootstrap-reboot",
               message=_("%(object)s reset (restarted at once, without shutting down)."))
SUSPEND = Action("suspend", _("Pause"), service=lifecycle.suspend, allowed=allows("suspend"), icon="pause-fill",
                 message=_("%(object)s paused (its memory stays in the host's RAM)."))
RESUME = Action("resume", _("Resume"), service=lifecycle.resume, allowed=allows("resume"), icon="play",
                message=_("%(object)s resumed."))
SAVE = Action("save", _("Save and stop"), task=lifecycle_jobs.save_task,
              enqueue_kwargs=lifecycle_jobs.checked_kwargs("save"), allowed=allows("save"), icon="download",
              show_job=True, message=_("%(object)s is being saved to the host's disk and stopped (job #%(job)s); "
                                       "starting it resumes where it was."))
DESTROY = Action("destroy", _("Force off"), service=lifecycle.destroy, allowed=allows("destroy"),
                 icon="plug", message=_("%(object)s forced off (like pulling the power cord)."))
DISCARD_SAVE = Action("discard_save", _("Discard saved state"), service=lifecycle.discard_save,
                      allowed=allows("discard_save"), icon="x-circle",
                      message=_("Saved state of %(object)s discarded: the next start boots afresh."))
AUTOSTART_ON = Action("autostart_on", _("Autostart on"), service=lifecycle.autostart_on,
                      allowed=_autostart(True), icon="toggle-off",
                      message=_("%(object)s will start when its host boots."))
AUTOSTART_OFF = Action("autostart_off", _("Autostart off"), service=lifecycle.autostart_off,
                       allowed=_autostart(False), icon="toggle-on",
                       message=_("%(object)s will no longer start when its host boots."))
DELETE = Action("delete", _("Delete"), service=lifecycle.delete, allowed=allows("delete"), icon="trash",
                message=_("%(object)s deleted."))

# POST routes and buttons, in button order; DELETE is the delete page and DELETE /api/instances/<id>/.
ACTIONS = (START, RESTORE, SHUTDOWN, REBOOT, RESET, SUSPEND, RESUME, SAVE, DESTROY, DISCARD_SAVE,
           AUTOSTART_ON, AUTOSTART_OFF)
# The list's per-row buttons (the rest is on the VM's page).
ROW_ACTIONS = (START, SHUTDOWN, DESTROY)
# What the list's bulk actions offer (delete wants each name typed: one VM at a time).
BULK = {action.name: action for action in ACTIONS}


def deleting(delete_volumes):
    """DELETE, or DELETE that also deletes the VM's disk images (the page's checkbox, ?delete_volumes=true)."""
    return replace(DELETE, service=partial(lifecycle.delete, delete_volumes=True)) if delete_volumes else DELETE
