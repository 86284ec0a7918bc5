"""Changing a VM's name, autostart, vCPUs and memory (PATCH /api/instances/{id}/, the rename form).

Where each change goes (the answer's `applied`):
- name: shut-off VMs only (libvirt renames the definition).
- autostart: the definition (the host's next boot).
- vcpus, memory_mib: instances.devices.update_config, the one function /api/instances/{id}/config/ and the
  hardware page use too, so both routes behave the same: a count over the VM's maximum raises the maximum
  with it (the answer then lists max_vcpus / max_memory_mib too), a maximum never shrinks by itself. A
  running VM takes a change live (vCPU hot-plug, memory balloon: the guest must cooperate) up to its running
  maximum; past it, or when the VM refuses it live, the change goes to the configuration only and applies at
  the next boot (the answer's `next_boot` lists those fields).

Everything virtdeck can judge (types, the host's CPUs and memory, names, the VM's state) is checked before
the first change, so bad input changes nothing.
"""
from django.utils.translation import gettext

from core.validators import libvirt_name_problem
from virt import lifecycle as rules
from virt.errors import InvalidConfig, OperationInvalid

from . import devices
from .services import on_domain, refreshed

FIELDS = ("name", "autostart", "vcpus", "memory_mib")
COUNTS = ("vcpus", "memory_mib")
LIVE, CONFIG = rules.LIVE, rules.CONFIG


class FieldError(InvalidConfig):
    """Bad input for one field: a 400 naming it."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def validate(instance, changes):
    """The changes checked without the host: {field: value}; raises FieldError for the first bad one."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise FieldError(unknown[0], gettext("Unknown field; the fields that can change: %(fields)s.")
                         % {"fields": ", ".join(FIELDS)})
    if not changes:
        raise FieldError("non_field_errors", gettext("Nothing to change: give %(fields)s.")
                         % {"fields": ", ".join(FIELDS)})
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
    for field in COUNTS:
        if field in changes:
            if isinstance(changes[field], bool) or not isinstance(changes[field], int):
                raise FieldError(field, gettext("Must be a whole number."))
            checked[field] = changes[field]  # its range: devices.check_config, against the VM and its host
    return checked


def _state(dom, changes):
    """Check the VM's state and host allow every change (before any is made); return its name and whether it
    runs."""
    for field, rule in (("name", "rename"), ("autostart", "autostart")):
        if field in changes:
            try:
                dom.check(rule)
            except OperationInvalid as exc:
                raise FieldError(field, exc.message) from None
    counts = {field: changes[field] for field in COUNTS if field in changes}
    if counts:
        devices.check_config(dom, **counts)
    return {"name": dom.name, "active": dom.is_active()}


def update(instance, changes):
    """Apply `changes` (a dict of FIELDS) to the VM; returns (fresh row, {"applied", "next_boot"}).

    applied: {field: ["config"] and/or "live"}; next_boot: the fields a running VM takes only when it next
    boots. Raises FieldError (400 naming the field), InvalidValue (a count the VM or host cannot take, naming
    the field), OperationInvalid (the state refuses it), VirtError.
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
    next_boot = []
    counts = {field: checked[field] for field in COUNTS if field in checked}
    if counts:
        for change in devices.update_config(instance, **counts)["changes"]:
            applied[change.field] = [CONFIG, LIVE] if change.live else [CONFIG]
            if state["active"] and not change.live:
                next_boot.append(change.field)
    return refreshed(instance) or instance, {"applied": applied, "next_boot": sorted(next_boot)}
