"""The create and clone jobs: thin JobTasks around instances/creation.py and instances/cloning.py."""
from core.jobs import JobTask
from hosts.models import Host
from virtdeck.celery import app

from . import cloning, creation


class CreateInstance(JobTask):
    """Make the volume, define, start (the wizard's Create, POST /api/instances/)."""

    name = "instances.creation_tasks.create_instance"
    kind = "create_instance"

    def execute(self, job, host_id, xml, volume=None, start=True):
        return creation.run_create(Host.objects.get(pk=host_id), job, xml, volume=volume, start=start)


class CloneInstance(JobTask):
    """Copy a VM's disks and define the copy (POST /api/instances/<id>/clone/)."""

    name = "instances.creation_tasks.clone_instance"
    kind = "clone_instance"

    def execute(self, job, host_id, source_uuid, name, pool, paused_copy=False):
        return cloning.run_clone(Host.objects.get(pk=host_id), job, source_uuid, name, pool, paused_copy)


create_instance_task = app.register_task(CreateInstance())
clone_instance_task = app.register_task(CloneInstance())
