"""Long storage work as jobs (core/jobs.py): thin Celery tasks over virt.volumes and storage.inventory."""
from django.utils.translation import gettext as _

from core.jobs import JobCancelled, JobTask
from core.models import Job
from hosts.connection import call, run_long
from instances.models import Instance
from virt import storage as virt_storage
from virt import volumes as virt_volumes
from virt.errors import NotFound, OperationInvalid
from virt.volume_users import use_volume_instead
from virtdeck.celery import app

from . import command_lines, inventory
from .models import StoragePool, Volume


def _copy_total(source, allocation):
    """Bytes the copy will hold on the host: all of it when thick, else what the source holds."""
    return source.capacity if allocation == "thick" else max(source.allocation, 1)


class CopyVolume(JobTask):
    """Copy a volume into a new one on its host (libvirt runs qemu-img there): progress from the copy's size.

    The source is only read. libvirt cannot stop a copy halfway (it refuses to delete a volume still being
    written); a cancel takes effect when the copy ends, and the copy is then deleted. A copy that fails is
    removed by libvirt itself.
    """

    abstract = True

    def commands(self, job):
        params = job.params
        source = Volume.objects.select_related("pool__host").get(pk=params["volume_id"])
        target = StoragePool.objects.get(pk=params["target_pool_id"])
        return command_lines.copy_volume(source, target, params["name"], params.get("volume_format"),
                                         params.get("allocation", "thin"))

    def cleanup_lost(self, job):
        """The copy under way when the worker died: libvirt finishes (or fails) it on the host whatever
        happened to the worker; then it is deleted. The name was free when the job started (checked), so a
        volume of that name in the target pool is the job's."""
        target = StoragePool.objects.select_related("host").filter(pk=job.params["target_pool_id"]).first()
        if target is None:
            return True
        name = job.params["name"]

        def remove_and_read(conn):
            try:
                virt_volumes.delete_volume(conn, target.name, name)
            except NotFound:
                pass
            return virt_storage.collect_pool(conn, target.name)

        try:
            inventory.apply_pool(target.host, call(target.host, remove_and_read))
        except OperationInvalid:  # still being written: libvirt refuses to delete it until the copy ends
            return False
        Volume.objects.filter(pool=target, name=name).delete()  # the row a pool refresh may have made meanwhile
        return True

    def execute(self, job, volume_id, name, target_pool_id, volume_format=None, allocation="thin"):
        source = Volume.objects.select_related("pool__host").get(pk=volume_id)
        target = StoragePool.objects.get(pk=target_pool_id)
        host = source.pool.host
        total = _copy_total(source, allocation)
        job.progress(0, _("copying %(pool)s/%(volume)s to %(target)s/%(name)s")
                     % {"pool": source.pool.name, "volume": source.name, "target": target.name, "name": name})
        reached = [-1]

        def poll():
            current = call(host, lambda conn: virt_volumes.allocation_poller(conn, target.name, name)())
            percent = -1 if current is None else min(99, current * 100 // total)
            if percent > reached[0]:
                reached[0] = percent
                try:
                    job.progress(percent)
                except JobCancelled:
                    pass  # the copy cannot be interrupted: the cancel is handled when it ends

        def copy(conn):
            return virt_volumes.clone_volume(conn, source.pool.name, source.name, name, target_pool=target.name,
                                             volume_format=volume_format, allocation=allocation)

        record = run_long(host, copy, poll=poll)

        def remove_and_read(conn):
            virt_volumes.delete_volume(conn, target.name, name)
            return virt_storage.collect_pool(conn, target.name)

        # The flag itself, not only the heartbeat's last look at it: a cancel asked just before the end counts.
        if job.cancelled.is_set() or Job.objects.filter(pk=job.id, cancel_requested=True).exists():
            inventory.apply_pool(host, call(host, remove_and_read))
            raise JobCancelled()
        inventory.apply_pool(host, call(host, lambda conn: virt_storage.collect_pool(conn, target.name)))
        volume = inventory.apply_volume(target, record)
        job.progress(100, _("%(pool)s/%(name)s: %(format)s, %(allocation)s of %(capacity)s bytes") % {
            "pool": target.name, "name": name, "format": record.format, "allocation": record.allocation,
            "capacity": record.capacity})
        return {"volume": volume.pk, "pool": target.pk, "format": record.format, "allocation": record.allocation}


class CloneVolume(CopyVolume):
    name = "storage.tasks.clone_volume"
    kind = "clone_volume"


class ConvertVolume(CopyVolume):
    """The same copy, asked for as a conversion (raw <-> qcow2, thin <-> thick): its own kind in the job list.

    With instance_id, a shut-off VM whose disk is the source then uses the converted volume instead (the
    source stays, for going back). If that step fails, the job fails and says so; the new volume stays.
    """

    name = "storage.tasks.convert_volume"
    kind = "convert_volume"

    def execute(self, job, instance_id=None, **kwargs):
        result = super().execute(job, **kwargs)
        if instance_id is None:
            return result
        source = Volume.objects.select_related("pool__host").get(pk=kwargs["volume_id"])
        copy = Volume.objects.select_related("pool").get(pk=result["volume"])
        instance = Instance.objects.get(pk=instance_id)
        old = ({source.path, source.key}, source.pool.name, source.name)
        new = ({copy.path}, copy.pool.name, copy.name)
        switched = call(source.pool.host, lambda conn: use_volume_instead(conn, str(instance.uuid), old, new,
                                                                            copy.format))
        job.log(_("%(vm)s: %(disks)s now on %(pool)s/%(volume)s")
                % {"vm": instance.name, "disks": ", ".join(switched), "pool": copy.pool.name, "volume": copy.name})
        return {**result, "instance": instance.pk, "switched": switched}


clone_volume = app.register_task(CloneVolume())
convert_volume = app.register_task(ConvertVolume())

# The benchmark job lives in its own module; importing it here registers it with the worker.
from .benchmark_tasks import storage_benchmark  # noqa: E402,F401
