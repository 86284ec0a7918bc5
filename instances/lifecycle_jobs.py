"""Managed save, restore, and snapshot create / revert / delete as jobs (core/jobs.py): 202 + Location in the
API, the job's page with its progress in the browser.

They write or read a VM's whole memory, or merge disk images: seconds to minutes. So they run in the worker
on a connection of their own (lifecycle_long.long_call), not in the request on the host's shared connection.
What can be judged at once is checked in the request before the job is queued (the live state, the input, the
snapshot's existence), so the API answers 400 / 404 / 409 as before and nothing is queued; the job checks the
live state again (the VM may have changed meanwhile).
"""
from core import jobs
from core.jobs import JobTask
from core.models import Job
from virt import commands as virt_commands
from virtdeck.celery import app

from . import lifecycle, snapshots
from .models import Instance


class InstanceJob(JobTask):
    """A job on one VM: runs work(instance, job, **params); its page shows virsh's line for the same (how)."""

    abstract = True

    def execute(self, job, instance_id, **params):
        instance = Instance.objects.select_related("host").get(pk=instance_id)
        return self.work(instance, job, **params)

    def commands(self, job):
        params = dict(job.params)
        instance = Instance.objects.select_related("host").get(pk=params.pop("instance_id"))
        return self.how(instance.host.uri, instance.name, **params)


def _register(kind, work, how, doc):
    task = type(kind.title().replace("_", ""), (InstanceJob,), {
        "name": f"instances.lifecycle_jobs.{kind}", "kind": kind, "work": staticmethod(work),
        "how": staticmethod(how), "__doc__": doc})
    return app.register_task(task())


save_task = _register(
    "save_instance", lambda vm, job: lifecycle.run_long_action(vm, job, "save"),
    lambda uri, name: virt_commands.lifecycle(uri, name, "save"),
    "Managed save: the VM's memory to the host's disk, then it stops.")
restore_task = _register(
    "restore_instance", lambda vm, job: lifecycle.run_long_action(vm, job, "restore"),
    lambda uri, name: virt_commands.lifecycle(uri, name, "restore"),
    "Restore: the VM resumes from its managed save.")
snapshot_create_task = _register(
    "snapshot_create", snapshots.run_create,
    lambda uri, vm, name, kind, description="": virt_commands.snapshot_create(uri, vm, name, kind, description),
    "Take a snapshot.")
snapshot_revert_task = _register(
    "snapshot_revert", snapshots.run_revert,
    lambda uri, vm, name, discard_current=False: virt_commands.snapshot_revert(uri, vm, name),
    "Revert the VM to a snapshot.")
snapshot_delete_task = _register(
    "snapshot_delete", snapshots.run_delete, lambda uri, vm, name: virt_commands.snapshot_delete(uri, vm, name),
    "Delete a snapshot.")


def checked_kwargs(name):
    """An Action's enqueue_kwargs for save / restore: the live state guard first (OperationInvalid: 409, no
    job), then the job's arguments."""
    def kwargs(instance):
        lifecycle.check_live(instance, name)
        return {"host": instance.host, "instance_id": instance.pk}
    return kwargs


def _enqueue(task, instance, user, **params):
    return jobs.enqueue(task, user=user, target=instance, host=instance.host, target_kind=Job.TargetKind.INSTANCE,
                        instance_id=instance.pk, **params)


def create_snapshot(instance, user, name, kind, description=""):
    """Check (snapshots.check_create: ValidationError by field), then queue the snapshot: the Job."""
    snapshots.check_create(instance, name, kind, description)
    return _enqueue(snapshot_create_task, instance, user, name=name, kind=kind, description=description)


def revert_snapshot(instance, user, name, discard_current=False):
    """Check (snapshots.check_revert: NotFound, OperationInvalid), then queue the revert: the Job."""
    snapshots.check_revert(instance, name)
    return _enqueue(snapshot_revert_task, instance, user, name=name, discard_current=bool(discard_current))


def delete_snapshot(instance, user, name):
    """Check the snapshot exists (NotFound), then queue its deletion: the Job."""
    snapshots.get_snapshot(instance, name)
    return _enqueue(snapshot_delete_task, instance, user, name=name)
