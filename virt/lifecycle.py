"""Which lifecycle actions a domain's state allows, and where a change applies (live, config). Pure.

One table serves the buttons a page shows and the guard a service runs before
calling libvirt, so the two cannot disagree. States are virt/inventory's state
names; actions are the names the API uses (`POST /api/instances/{id}/<action>/`).
"""
import libvirt

from .errors import OperationInvalid
from .inventory import STATE_NAMES
from .i18n import _, gettext_noop

NO_STATE = STATE_NAMES[libvirt.VIR_DOMAIN_NOSTATE]
RUNNING = STATE_NAMES[libvirt.VIR_DOMAIN_RUNNING]
BLOCKED = STATE_NAMES[libvirt.VIR_DOMAIN_BLOCKED]
PAUSED = STATE_NAMES[libvirt.VIR_DOMAIN_PAUSED]
SHUTTING_DOWN = STATE_NAMES[libvirt.VIR_DOMAIN_SHUTDOWN]
SHUT_OFF = STATE_NAMES[libvirt.VIR_DOMAIN_SHUTOFF]
CRASHED = STATE_NAMES[libvirt.VIR_DOMAIN_CRASHED]
PM_SUSPENDED = STATE_NAMES[libvirt.VIR_DOMAIN_PMSUSPENDED]

# Every action, in the order buttons show them.
ACTIONS = (
    "start", "restore", "shutdown", "reboot", "reset", "suspend", "resume", "save", "destroy",
    "discard_save", "rename", "autostart", "delete",
)
# A domain in these states has a QEMU process (it is "active" to libvirt).
ACTIVE_STATES = frozenset({RUNNING, BLOCKED, PAUSED, SHUTTING_DOWN, CRASHED, PM_SUSPENDED})
# Actions that need a persistent definition (a transient VM has nothing to save, rename or undefine).
_NEED_DEFINITION = frozenset({"save", "restore", "discard_save", "rename", "autostart", "delete", "start"})


def _by_state(state, managed_save):
    if state in (RUNNING, BLOCKED):  # blocked: running, waiting on a resource
        return {"shutdown", "reboot", "reset", "suspend", "save", "destroy"}
    if state == PAUSED:
        return {"resume", "save", "destroy"}
    if state in (SHUTTING_DOWN, CRASHED, PM_SUSPENDED):
        # The guest did not finish shutting down, crashed with on_crash=preserve, or sleeps: force off.
        return {"destroy"}
    if state == SHUT_OFF:
        # Starting a VM with a saved state resumes that state (libvirt's create does): call it restore, and
        # offer to discard the state for a fresh boot. libvirt refuses to rename a VM with a saved state.
        return {"restore", "discard_save", "delete"} if managed_save else {"start", "rename", "delete"}
    return set()  # no state: libvirt cannot tell, offer nothing


def allowed_actions(state, *, persistent=True, managed_save=False):
    """The actions a VM in `state` allows, in button order.

    persistent: the VM has a definition (a transient one vanishes when it stops).
    managed_save: a managed save image exists (only meaningful when shut off).
    """
    allowed = _by_state(state, managed_save)
    if persistent:
        allowed.add("autostart")
    else:
        allowed -= _NEED_DEFINITION
    return tuple(action for action in ACTIONS if action in allowed)


# States and actions as words in messages (the slugs are identifiers); _() translates them where shown.
STATE_WORDS = {RUNNING: gettext_noop("running"), BLOCKED: gettext_noop("blocked"), PAUSED: gettext_noop("paused"),
               SHUT_OFF: gettext_noop("shut off"), CRASHED: gettext_noop("crashed"),
               PM_SUSPENDED: gettext_noop("suspended by the guest"), NO_STATE: gettext_noop("in no state"),
               SHUTTING_DOWN: gettext_noop("shutting down")}
ACTION_WORDS = {"start": gettext_noop("start"), "restore": gettext_noop("restore"),
                "shutdown": gettext_noop("shutdown"), "reboot": gettext_noop("reboot"),
                "reset": gettext_noop("reset"), "suspend": gettext_noop("suspend"), "resume": gettext_noop("resume"),
                "save": gettext_noop("save"), "destroy": gettext_noop("destroy"),
                "discard_save": gettext_noop("discard save"), "rename": gettext_noop("rename"),
                "autostart": gettext_noop("autostart"), "delete": gettext_noop("delete")}


def check(action, state, *, persistent=True, managed_save=False):
    """Raise OperationInvalid unless `action` is allowed (the server-side guard behind the buttons)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    if action not in allowed_actions(state, persistent=persistent, managed_save=managed_save):
        if persistent or action not in _NEED_DEFINITION:
            message = _("Cannot {action} a VM that is {state}.")
        else:
            message = _("Cannot {action} a VM that is {state} (it has no persistent definition).")
        raise OperationInvalid(message.format(action=_(ACTION_WORDS[action]),
                                              state=_(STATE_WORDS.get(state, state))))


LIVE, CONFIG = "live", "config"
_AFFECT_CHOICES = {None: None, LIVE: {LIVE}, CONFIG: {CONFIG}, "both": {LIVE, CONFIG}}


def affect(active, persistent, wanted=None):
    """Where a device, vCPU or memory change applies: a frozenset of "live" and/or "config".

    wanted None picks from the state: a running persistent VM gets both (the change now and at
    every boot), a running transient VM only live, a shut-off VM only its configuration.
    wanted "live", "config" or "both" is checked against the state instead.
    """
    if wanted not in _AFFECT_CHOICES:
        raise ValueError(f"affect must be one of live, config, both; got {wanted!r}")
    chosen = _AFFECT_CHOICES[wanted]
    if chosen is None:
        chosen = ({LIVE} if active else set()) | ({CONFIG} if persistent else set())
    if LIVE in chosen and not active:
        raise OperationInvalid(_("The VM is not running: the change can only go to its configuration."))
    if CONFIG in chosen and not persistent:
        raise OperationInvalid(_("The VM is transient (it has no configuration): the change can only be live."))
    if not chosen:
        raise OperationInvalid(_("The VM is neither running nor defined."))
    return frozenset(chosen)
