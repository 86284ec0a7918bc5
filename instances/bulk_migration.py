"""Migrate several VMs chosen in the list (the page instances:instance_bulk_migrate and
/api/instances/bulk/migrate/): which of them can go to which host (the precheck of each), then one parent
job with a child migration job per VM, the evacuation's code (migration_tasks.migrate_each).

Each VM goes to the chosen host, or, with none chosen, to the fitting host with the most free memory.
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.permissions import restrict
from hosts.models import Host
from virt.errors import VirtError

from . import evacuation, migration
from .models import Instance

# Fewer than the list's other bulk actions: each VM's precheck asks every other host.
MAX_IDS = 50


def selected(ids, user):
    """The VMs with these ids that `user` may migrate, in the order given, and the ids not found."""
    rows = restrict(Instance.objects.select_related("host"), user, "migrate").in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows], [pk for pk in ids if pk not in rows]


def prechecks(vms, targets):
    """For each VM: {"vm", "error" (its own host did not answer), "cells": one per target, in order:
    {"host", "own" (the VM runs there), "check" (migration.precheck's entry, None on its own host)}}."""
    rows = []
    for vm in vms:
        others = [target for target in targets if target.pk != vm.host_id]
        try:
            checks = {check["host"].pk: check for check in migration.precheck(vm, others)} if others else {}
            error = None
        except VirtError as exc:
            checks, error = {}, exc.message
        cells = [{"host": target, "own": target.pk == vm.host_id, "check": checks.get(target.pk)}
                 for target in targets]
        rows.append({"vm": vm, "error": error, "cells": cells})
    return rows


def check_start(ids, user, target, parallel):
    """The VMs to migrate, or ValidationError keyed by field: nothing starts unless every id is one."""
    if not ids:
        raise ValidationError({"ids": _("Select at least one VM.")})
    if len(ids) > MAX_IDS:
        raise ValidationError({"ids": _("At most %(max)d VMs at once.") % {"max": MAX_IDS}})
    if not 1 <= parallel <= evacuation.MAX_PARALLEL:
        raise ValidationError({"parallel": _("Between 1 and %(max)d.") % {"max": evacuation.MAX_PARALLEL}})
    if target is not None and target.state != Host.State.UP:
        raise ValidationError({"target_host": _("The host is not reachable: %(error)s")
                               % {"error": target.last_error or target.state}})
    vms, missing = selected(ids, user)
    if missing:
        raise ValidationError({"ids": _("No such instance: %(ids)s.") % {"ids": ", ".join(map(str, missing))}})
    busy = [vm.name for vm in vms if migration.running_migration(vm) is not None]
    if busy:
        raise ValidationError({"ids": _("A migration is already running for: %(names)s.")
                               % {"names": ", ".join(busy)}})
    return vms
