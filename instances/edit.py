"""Changing a VM's name, autostart, vCPUs and memory (PATCH /api/instances/{id}/, the rename form).

Where each change goes (the answer's `applied`):
- name: shut-off VMs only (libvirt renames the definition).
- autostart: the definition (the host's next boot).
- vcpus, memory_mib on a shut-off VM: its configuration (both the current value and, when it grows past
  it, the maximum; memory sets both current and maximum).
- on a running VM, up to its running maximum: live and in the configuration (vCPU hot-plug, memory
  balloon: the guest must cooperate); past that maximum, or when the VM refuses it live, the
  configuration only: it applies at the next boot (the answer's `next_boot` lists those fields).

Everything virtdeck can judge (types, ranges, the host's CPUs and memory, names, the VM's state) is
checked before the first change, so bad input changes nothing.
"""
from django.utils.translation import gettext

from core.validators import libvirt_name_problem
from virt import lifecycle as rules
from virt.errors import InvalidConfig, OperationInvalid, Unsupported

from .services import on_domain, refreshed

FIELDS = ("name", "autostart", "vcpus", "memory_mib")
# Bounds whatever the host says: libvirt's own vCPU limit for QEMU/KVM, and 16 TiB of memory.
MAX_VCPUS = 4096
MAX_MEMORY_MIB = 16 * 1024 * 1024
LIVE, CONFIG = rules.LIVE, rules.CONFIG


class FieldError(InvalidConfig):
    """Bad input for one field: a 400 naming it."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def host_limits(host):
    """{"vcpus", "memory_mib"}: what the host has (from its facts; None where it is not known yet)."""
    facts = host.facts or {}
    memory_mib = facts.get("memory_mib") or (host.memory_total_kib // 1024 if host.memory_total_kib else None)
    return {"vcpus": facts.get("cpus") or None, "memory_mib": memory_mib}


def _whole(value, field, maximum, host_maximum, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, gettext("Must be a whole number."))
    if value < 1:
        raise FieldError(field, gettext("Must be at least 1."))
    if value > maximum:
        raise FieldError(field, gettext("At most %(max)s.") % {"max": maximum})
    if host_maximum and value > host_maximum:
        raise FieldError(field, gettext("The host has only %(max)s %(what)s.") % {"max": host_maximum, "what": what})
    return value


def validate(instance, changes):
    """The changes checked without the host: {field: value}; raises FieldError for the first bad one."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise FieldError(unknown[0], gettext("Unknown field; the fields that can change: %(fields)s.")
                         % {"fields": ", ".join(FIELDS)})
    if not changes:
        raise FieldError("non_field_errors", gettext("Nothing to change: give %(fields)s.")
                         % {"fields": ", ".join(FIELDS)})
    limits = host_limits(instance.host)
    checked = {}
    if "name" in changes:
        problem = libvirt_name_problem(changes["name"])
        if problem:
            raise FieldError("name", problem)
        checked["name"] = changes["name"]
    if "autostart" in changes:
        if not isinstance(changes["autostart"], bool):
            raise FieldError("autostart", gettext("Must be true or false."))
        checked["autostart"] = changes["autostart"]
    if "vcpus" in changes:
        checked["vcpus"] = _whole(changes["vcpus"], "vcpus", MAX_VCPUS, limits["vcpus"], gettext("CPUs"))
    if "memory_mib" in changes:
        checked["memory_mib"] = _whole(changes["memory_mib"], "memory_mib", MAX_MEMORY_MIB, limits["memory_mib"],
                                       gettext("MiB of memory"))
    return checked


# What a running VM's refusal of a live change looks like (translated by the pool; the change then goes to
# the configuration only).
REFUSED_LIVE = (OperationInvalid, Unsupported, InvalidConfig)


def _state(dom, changes):
    """Check the VM's state allows every change (before any is made); return what the changes need to know."""
    for field, rule in (("name", "rename"), ("autostart", "autostart")):
        if field in changes:
            try:
                dom.check(rule)
            except OperationInvalid as exc:
                raise FieldError(field, exc.message) from None
    state = {"name": dom.name, "active": dom.is_active(), "persistent": dom.is_persistent()}
    if ("vcpus" in changes or "memory_mib" in changes) and not (state["active"] or state["persistent"]):
        raise OperationInvalid(gettext("The VM is neither running nor defined."))
    if "vcpus" in changes:
        state["vcpus"] = dom.vcpus()
    if "memory_mib" in changes:
        state["memory"] = dom.memory()
    return state


def _config_vcpus(dom, count):
    if count > dom.vcpus()["config"]["maximum"]:
        dom.set_max_vcpus(count)
    dom.set_vcpus(count, affect=CONFIG)


def _config_memory(dom, kib):
    dom.set_max_memory(kib)  # lowering the maximum lowers the current memory with it
    dom.set_memory(kib, affect=CONFIG)


def _live_or_config(instance, state, fits_live, set_live, set_both, set_config):
    """Make a vCPU or memory change where it can go (see the module's docstring); return the places."""
    if not state["active"]:
        on_domain(instance, set_config)
        return [CONFIG]
    if not state["persistent"]:
        on_domain(instance, set_live)
        return [LIVE]
    if fits_live:
        try:
            on_domain(instance, set_both)
            return [CONFIG, LIVE]
        except REFUSED_LIVE:
            pass  # the running VM refused it: the next boot takes it
    on_domain(instance, set_config)
    return [CONFIG]


def update(instance, changes):
    """Apply `changes` (a dict of FIELDS) to the VM; returns (fresh row, {"applied", "next_boot"}).

    applied: {field: ["config"] and/or "live"}; next_boot: the fields a running VM takes only when it next
    boots. Raises FieldError (400 naming the field), OperationInvalid (the state refuses it), VirtError.
    The rename goes first: a name already taken is the likeliest refusal, and then nothing else changed.
    """
    checked = validate(instance, changes)
    state = on_domain(instance, lambda dom: _state(dom, checked))
    applied = {}
    if "name" in checked:
        if checked["name"] != state["name"]:
            try:
                on_domain(instance, lambda dom: dom.rename(checked["name"]))
            except (OperationInvalid, InvalidConfig) as exc:  # taken, or a name libvirt refuses
                raise FieldError("name", exc.message) from None
        applied["name"] = [CONFIG]
    if "autostart" in checked:
        on_domain(instance, lambda dom: dom.set_autostart(checked["autostart"]))
        applied["autostart"] = [CONFIG]
    if "vcpus" in checked:
        count = checked["vcpus"]
        live = state["vcpus"]["live"]
        applied["vcpus"] = _live_or_config(
            instance, state, live is not None and count <= live["maximum"],
            set_live=lambda dom: dom.set_vcpus(count, affect=LIVE), set_both=lambda dom: dom.set_vcpus(count),
            set_config=lambda dom: _config_vcpus(dom, count))
    if "memory_mib" in checked:
        kib = checked["memory_mib"] * 1024
        live = state["memory"]["live"]
        applied["memory_mib"] = _live_or_config(
            instance, state, live is not None and kib <= live["maximum_kib"],
            set_live=lambda dom: dom.set_memory(kib, affect=LIVE), set_both=lambda dom: dom.set_memory(kib),
            set_config=lambda dom: _config_memory(dom, kib))
    next_boot = sorted(field for field, places in applied.items()
                       if state["active"] and field in ("vcpus", "memory_mib") and LIVE not in places)
    return refreshed(instance) or instance, {"applied": applied, "next_boot": next_boot}
