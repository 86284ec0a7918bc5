"""Evacuate a host: every running VM on it migrated elsewhere, one at a time or N in parallel, each its own
migration job under one parent job (instances/migration_tasks.py EvacuateHost).

Where each VM goes: the given target, or the host with the most free memory among those the precheck
says can take it. Disks in a plain directory both hosts see need `unsafe` (see instances/migration.py):
an evacuation uses such a host only when the request allows it.
"""
import dataclasses

from django.utils.translation import gettext as _

from core.models import Job
from virt import migration as virt_migration

from . import migration
from .choices import InstanceState
from .models import Instance

JOB_KIND = "evacuate"
MAX_PARALLEL = 8


def running_vms(host):
    return list(Instance.objects.filter(host=host, state=InstanceState.RUNNING).select_related("host").order_by("name"))


def plan(instance, targets, unsafe):
    """(target Host, Options) for one VM, or (None, reasons): the precheck's best fitting host."""
    reasons = []
    fitting = []
    for result in migration.precheck(instance, targets):
        if not result["can"]:
            reasons.extend(f"{result['host'].name}: {reason}" for reason in result["reasons"])
        elif result["needs_unsafe"] and not unsafe:
            reasons.extend(f"{result['host'].name}: {warning}" for warning in result["warnings"])
        else:
            fitting.append(result)
    if not fitting:
        return None, reasons or [_("There is no other host.")]
    best = max(fitting, key=lambda result: result["host"].memory_free_kib or 0)
    options = virt_migration.Options(storage=best["storage"], unsafe=best["needs_unsafe"])
    return best["host"], options


def child_job(parent, instance, source, target, options):
    """A migration job row run by the parent's worker (not sent to the broker on its own)."""
    params = {"instance_id": instance.pk, "source_id": source.pk, "target_id": target.pk,
              "options": dataclasses.asdict(options)}
    return Job.objects.create(kind=migration.JOB_KIND, target_kind=Instance.job_target_kind,
                              target_id=str(instance.pk), target_name=instance.name, host=source,
                              user=parent.user, params={**params, "parent": parent.pk},
                              celery_task_id=f"parent-{parent.pk}"), params
