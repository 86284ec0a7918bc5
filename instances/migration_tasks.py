"""The migration job: migrate on the source's own long connection, watch it every 0.5 s, move the row.

Cancel (POST /api/jobs/<id>/cancel/) aborts libvirt's job (abortJob): the VM keeps running on the source.
"""
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django.utils.translation import gettext as _

from core.jobs import JobCancelled, JobTask, request_cancel
from hosts.connection import call, connection_spec, pool
from hosts.models import Host
from hosts.sync import sync_host
from virt import migration as virt_migration
from virt.connection import open_connection
from virt.domain import Domain
from virt.errors import NotFound, OperationFailed, VirtError
from virtdeck.celery import app

from . import command_lines, evacuation
from .inventory import refresh_one
from .migration import destination_uri, move_instance
from .models import Instance

MONITOR_INTERVAL = 0.5
LOGGED_SAMPLES = 600
# The data figures fill 5-95 % of the bar; the rest is setup and the final switch-over.
PROGRESS_SPAN = (5, 95)


def percent(sample):
    """The bar's position for one monitor sample (memory and disk data processed vs remaining). Pure."""
    processed, remaining = sample.get("data_processed") or 0, sample.get("data_remaining") or 0
    if processed + remaining == 0:
        return PROGRESS_SPAN[0]
    low, high = PROGRESS_SPAN
    return low + (high - low) * processed / (processed + remaining)


class MigrateInstance(JobTask):
    name = "instances.tasks.migrate"
    kind = "migrate"

    def commands(self, job):
        source, target = Host.objects.get(pk=job.params["source_id"]), Host.objects.get(pk=job.params["target_id"])
        return command_lines.migrate(source, job.target_name, target, job.params["options"])

    def execute(self, job, instance_id, source_id, target_id, options):
        instance = Instance.objects.select_related("host").get(pk=instance_id)
        source, target = Host.objects.get(pk=source_id), Host.objects.get(pk=target_id)
        opts = virt_migration.Options(**options)
        uuid = str(instance.uuid)
        samples = []
        job.progress(PROGRESS_SPAN[0], _("migrating %(vm)s from %(source)s to %(target)s")
                     % {"vm": instance.name, "source": source.name, "target": target.name})

        def on_source(fn):
            return call(source, lambda conn: fn(Domain.lookup(conn, uuid)))

        def monitor():
            try:
                sample = virt_migration.progress(on_source(lambda dom: dom.job_info()))
            except NotFound:  # undefined on the source: the migration just ended
                return
            if not sample["active"]:
                return
            samples.append(sample)
            # Every sample for the first 5 minutes, then one in ten: the job log is rewritten at each entry.
            if len(samples) <= LOGGED_SAMPLES or len(samples) % 10 == 0:
                job.log("progress", level="debug", **sample)
            job.progress(percent(sample))

        job.on_cancel(lambda: on_source(lambda dom: dom.abort_job()))
        started = time.monotonic()
        try:
            pool().run_long(connection_spec(source, key=f"migration-{job.id}"),
                            lambda conn: self._migrate(conn, uuid, target, opts), poll=monitor,
                            interval=MONITOR_INTERVAL)
        except Exception:
            still_there = self._still_on_source(source, uuid)
            where = _("%(vm)s still runs on %(host)s") if still_there else _("%(vm)s does not run on %(host)s")
            job.log(where % {"vm": instance.name, "host": source.name}, level="warning")
            if job.cancelled.is_set():
                raise JobCancelled() from None
            raise
        wall = time.monotonic() - started
        completed = virt_migration.result_figures(
            call(target, lambda conn: Domain.lookup(conn, uuid).job_info(completed=True)))
        moved = move_instance(instance.pk, source, target)
        refresh_one(target, uuid)
        job.progress(100, _("%(vm)s runs on %(host)s") % {"vm": instance.name, "host": target.name})
        return {"source": source.name, "target": target.name, "moved": moved, "wall_s": round(wall, 3),
                **completed, "samples": len(samples),
                "remaining_by_iteration": remaining_by_iteration(samples)}

    @staticmethod
    def _migrate(conn, uuid, target, opts):
        if opts.peer2peer:
            return virt_migration.migrate(conn, uuid, destination_uri(target), opts, target.migration_address)
        dest = open_connection(connection_spec(target, key="migration-destination"))
        try:
            return virt_migration.migrate(conn, uuid, None, opts, target.migration_address, dest_conn=dest)
        finally:
            dest.close()

    @staticmethod
    def _still_on_source(source, uuid):
        try:
            return call(source, lambda conn: virt_migration.lookup_active(conn, uuid))
        except Exception:  # noqa: BLE001 - only a log line depends on it
            return False


def remaining_by_iteration(samples):
    """[[iteration, memory bytes remaining at its last sample]]: the chart of convergence. Pure."""
    last = {}
    for sample in samples:
        if sample.get("memory_iteration") is not None and sample.get("memory_remaining") is not None:
            last[sample["memory_iteration"]] = sample["memory_remaining"]
    return [[iteration, remaining] for iteration, remaining in sorted(last.items())]


migrate_instance = app.register_task(MigrateInstance())


class PartlyDone(OperationFailed):
    """Some VMs of a parent job did not move: the job fails, and keeps its per-VM result (core.jobs)."""

    def __init__(self, message, result):
        super().__init__(message)
        self.job_result = result


def migrate_each(job, vms, targets, parallel, unsafe):
    """Migrate each VM (Instance rows) to the best fitting of `targets` (evacuation.plan; a VM's own host is
    left out), each as a child migration job of `job`, `parallel` at a time; cancelling `job` cancels them.

    Returns {"moved": [{"id", "name", "source", "target", "job"}], "failed": [{"id", "name", "error", "job"}],
    "children": [job ids]}, the VMs in the order given. Never raises for one VM.
    """
    children = []

    def cancel_children():
        for child in children:
            request_cancel(child)

    job.on_cancel(cancel_children)

    def move(vm):
        outcome = {"id": vm.pk, "name": vm.name, "job": None}
        try:
            if job.cancelled.is_set():
                return {**outcome, "error": "cancelled"}
            others = [t for t in targets if t.pk != vm.host_id]
            if targets and not others:
                return {**outcome, "error": f"it already runs on {vm.host.name}"}
            target, options = evacuation.plan(vm, others, unsafe)
            if target is None:
                return {**outcome, "error": "; ".join(options)}
            child, params = evacuation.child_job(job.job, vm, vm.host, target, options)
            children.append(child)
            job.log(_("%(vm)s -> %(host)s: job %(job)s") % {"vm": vm.name, "host": target.name, "job": child.pk})
            status = migrate_instance.run(child.pk, **params)
            child.refresh_from_db()
            outcome["job"] = child.pk
            if status == "succeeded":
                return {**outcome, "source": vm.host.name, "target": target.name}
            return {**outcome, "error": child.error or status}
        except VirtError as exc:  # the VM's own host did not answer the precheck
            return {**outcome, "error": exc.message}
        finally:
            connection.close()  # this thread's own

    moved, failed = [], []
    with ThreadPoolExecutor(max_workers=parallel) as workers:
        for done, outcome in enumerate(workers.map(move, vms), start=1):
            if "error" in outcome:
                failed.append(outcome)
                job.log(_("%(vm)s stays on %(host)s: %(error)s")
                        % {"vm": outcome["name"], "host": vms[done - 1].host.name, "error": outcome["error"]},
                        level="warning")
            else:
                moved.append(outcome)
            job.progress(100 * done / max(1, len(vms)))
    job.check()
    return {"moved": moved, "failed": failed, "children": [child.pk for child in children]}


class EvacuateHost(JobTask):
    """Every running VM of a host elsewhere: one child migration job per VM, `parallel` at a time."""

    name = "instances.tasks.evacuate"
    kind = "evacuate"

    def execute(self, job, host_id, target_id=None, parallel=1, unsafe=False):
        host = Host.objects.get(pk=host_id)
        sync_host(host)
        vms = evacuation.running_vms(host)
        targets = list(Host.objects.filter(pk=target_id) if target_id else Host.objects.exclude(pk=host.pk))
        job.progress(1, _("%(count)s running VMs to move from %(host)s") % {"count": len(vms), "host": host.name})
        result = migrate_each(job, vms, targets, parallel, unsafe)
        if result["failed"]:
            job.log("summary", level="warning", **result)
            raise PartlyDone(f"{len(result['failed'])} of {len(vms)} VMs stay on {host.name}", result)
        return result


evacuate_host = app.register_task(EvacuateHost())


class MigrateMany(JobTask):
    """The VMs chosen in the list (instances/bulk_migration.py), each its own child migration job."""

    name = "instances.tasks.migrate_many"
    kind = "migrate_many"

    def execute(self, job, instance_ids, target_id=None, parallel=1, unsafe=False):
        rows = Instance.objects.select_related("host").in_bulk(instance_ids)
        vms = [rows[pk] for pk in instance_ids if pk in rows]
        targets = list(Host.objects.filter(pk=target_id) if target_id else Host.objects.order_by("name"))
        job.progress(1, _("%(count)s VMs to migrate") % {"count": len(vms)})
        result = migrate_each(job, vms, targets, parallel, unsafe)
        # Deleted since the job was queued.
        result["failed"] += [{"id": pk, "name": None, "job": None, "error": "no such instance any more"}
                             for pk in instance_ids if pk not in rows]
        if result["failed"]:
            job.log("summary", level="warning", **result)
            raise PartlyDone(f"{len(result['failed'])} of {len(instance_ids)} VMs were not moved", result)
        return result


migrate_many = app.register_task(MigrateMany())
