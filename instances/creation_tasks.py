"""The create and clone jobs: thin JobTasks around instances/creation.py and instances/cloning.py, and the
functions pages and API call to start them."""
from core import jobs, permissions
from core.jobs import JobTask
from core.models import Job
from hosts.models import Host
from virt import commands as virt_commands
from virtdeck.celery import app

from . import cloning, creation
from .models import Instance


class CreateInstance(JobTask):
    """Make the volume, define, start (the wizard's Create, POST /api/instances/)."""

    name = "instances.creation_tasks.create_instance"
    kind = "create_instance"

    def commands(self, job):
        uri, name, volume = Host.objects.get(pk=job.params["host_id"]).uri, job.target_name, job.params.get("volume")
        made = []
        if volume:
            made += virt_commands.volume_create(uri, volume["pool"], volume["name"], volume["capacity"],
                                                volume["format"], volume["allocation"])
        made += virt_commands.define(uri, f"{name}.xml")  # the XML the wizard previewed, saved to a file
        if job.params.get("start", True):
            made += virt_commands.lifecycle(uri, name, "start")
        return made

    def execute(self, job, host_id, xml, volume=None, start=True):
        return creation.run_create(Host.objects.get(pk=host_id), job, xml, volume=volume, start=start)


class CloneInstance(JobTask):
    """Copy a VM's disks and define the copy (POST /api/instances/<id>/clone/)."""

    name = "instances.creation_tasks.clone_instance"
    kind = "clone_instance"

    def execute(self, job, host_id, source_uuid, name, pool, paused_copy=False):
        result = cloning.run_clone(Host.objects.get(pk=host_id), job, source_uuid, name, pool, paused_copy)
        clone = Instance.objects.filter(pk=result["instance"]).first()
        source = Instance.objects.filter(host_id=host_id, uuid=source_uuid).first()
        user = job.job.user
        if permissions.share_clone(user, source, clone) is not None:
            job.log(f"{user} may now see and act on {name} as on its source")
        return result


create_instance_task = app.register_task(CreateInstance())
clone_instance_task = app.register_task(CloneInstance())


def create_instance(plan, user=None):
    """Start the create job for a checked creation.Plan: the Job (202 + Location in the API)."""
    job = jobs.enqueue(create_instance_task, user=user, host=plan.host, target_kind=Job.TargetKind.INSTANCE,
                       **plan.job_kwargs)
    Job.objects.filter(pk=job.pk).update(target_name=plan.answers.name)
    job.target_name = plan.answers.name
    return job


def clone_instance(instance, user, name, pool_name, paused_copy=False):
    """Check (cloning.check_clone), then start the clone job."""
    kwargs = cloning.check_clone(instance, name, pool_name, paused_copy)
    return jobs.enqueue(clone_instance_task, user=user, target=instance, host=instance.host, **kwargs)
