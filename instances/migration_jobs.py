"""Start a migration or an evacuation: what the pages and the API call. Above the jobs it enqueues
(instances/migration_tasks.py), which run the services below (instances/migration.py, evacuation.py)."""
import dataclasses

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.jobs import enqueue
from core.models import Job
from hosts.models import Host

from . import bulk_migration, evacuation, migration
from .migration_tasks import evacuate_host, migrate_instance, migrate_many


def start_migration(instance, user, target, options):
    """Check (ValidationError, 400 keyed by field, when it cannot work as asked) and enqueue; returns the Job."""
    if migration.running_migration(instance) is not None:
        raise ValidationError({"target_host": _("A migration of this VM is already running.")})
    migration.check_request(instance, target, options)
    return enqueue(migrate_instance, user=user, target=instance, host=instance.host, instance_id=instance.pk,
                   source_id=instance.host_id, target_id=target.pk, options=dataclasses.asdict(options))


def start_evacuation(host, user, target=None, parallel=1, unsafe=False):
    """Check and enqueue the parent job; ValidationError (400) keyed by field when it cannot start."""
    if not 1 <= parallel <= evacuation.MAX_PARALLEL:
        raise ValidationError({"parallel": _("Between 1 and %(max)d.") % {"max": evacuation.MAX_PARALLEL}})
    if target is not None and target.pk == host.pk:
        raise ValidationError({"target_host": _("The target must be another host.")})
    if host.state != Host.State.UP:
        raise ValidationError({"host": _("The host is not reachable: %(error)s") % {"error": host.last_error}})
    if Job.objects.filter(kind=evacuation.JOB_KIND, target_kind=Host.job_target_kind, target_id=str(host.pk),
                          status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).exists():
        raise ValidationError({"host": _("An evacuation of this host is already running.")})
    return enqueue(evacuate_host, user=user, target=host, host=host, host_id=host.pk,
                   target_id=None if target is None else target.pk, parallel=parallel, unsafe=unsafe)


def start_bulk_migration(ids, user, target=None, parallel=1, unsafe=False):
    """Check (bulk_migration.check_start: ValidationError, 400 keyed by field) and enqueue the parent job
    that migrates each VM as a child job; target None: each to the fitting host with most free memory."""
    vms = bulk_migration.check_start(ids, user, target, parallel)
    return enqueue(migrate_many, user=user, instance_ids=[vm.pk for vm in vms],
                   target_id=None if target is None else target.pk, parallel=parallel, unsafe=unsafe)
