"""Jobs: a Job row per unit of long work; Celery only carries it.

    class RefreshHost(JobTask):
        name = "hosts.refresh"
        kind = "refresh"
        def execute(self, job, host_id):
            job.progress(50, "capabilities read")

    job = enqueue(RefreshHost, user=request.user, target=host, host_id=host.pk)

A heartbeat thread stamps the row every HEARTBEAT seconds and watches the
cancel flag; a job whose heartbeat stops (worker killed) is failed by
`reap_lost_jobs` (Celery beat, and at every worker start).
"""
import logging
import os
import socket
import threading
import time
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from virt.errors import VirtError

from .events import publish
from .models import Job

log = logging.getLogger(__name__)
HEARTBEAT = 2.0


class JobCancelled(Exception):
    pass


def _push(job):
    publish("job", id=job.pk, status=job.status, progress=job.progress)


class JobContext:
    """What a running task sees of its job: progress, log, cancel."""

    def __init__(self, job):
        self.job = job
        self.cancelled = threading.Event()
        self._on_cancel = []
        self._lock = threading.Lock()

    @property
    def id(self):
        return self.job.pk

    def log(self, message, level="info", **data):
        entry = {"time": timezone.now().isoformat(), "level": level, "message": message}
        if data:
            entry["data"] = data
        with self._lock:
            self.job.log = [*self.job.log, entry]
            Job.objects.filter(pk=self.job.pk).update(log=self.job.log)

    def progress(self, percent, message=None):
        percent = max(0, min(100, int(percent)))
        with self._lock:
            self.job.progress = percent
            Job.objects.filter(pk=self.job.pk).update(progress=percent, heartbeat=timezone.now())
        if message:
            self.log(message)
        _push(self.job)
        self.check()

    def check(self):
        """Raise JobCancelled if a cancel was requested."""
        if self.cancelled.is_set():
            raise JobCancelled()

    def on_cancel(self, callback):
        """Run callback (e.g. dom.abortJob) from the heartbeat thread when cancel is asked."""
        self._on_cancel.append(callback)
        if self.cancelled.is_set():
            callback()

    def _cancel_now(self):
        if self.cancelled.is_set():
            return
        self.cancelled.set()
        for callback in self._on_cancel:
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - cancel is best effort, log why
                log.warning("job %s cancel callback failed: %s", self.job.pk, exc)


class _Heartbeat(threading.Thread):
    """Stamps the row every HEARTBEAT s and polls the cancel flag every 0.5 s."""

    def __init__(self, ctx):
        super().__init__(name=f"job-{ctx.id}-heartbeat", daemon=True)
        self.ctx = ctx
        self.stop = threading.Event()

    def run(self):
        last_stamp = time.monotonic()
        try:
            while not self.stop.wait(0.5):
                rows = Job.objects.filter(pk=self.ctx.id)
                if rows.filter(cancel_requested=True).exists():
                    self.ctx._cancel_now()
                if time.monotonic() - last_stamp >= HEARTBEAT:
                    rows.update(heartbeat=timezone.now())
                    last_stamp = time.monotonic()
        finally:
            close_old_connections()


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


class JobTask(Task):
    """Base Celery task: start, heartbeat, cancel, finish the Job row.

    Subclasses set `name` and `kind` and define `execute(self, job, **kwargs)`.
    """

    abstract = True
    kind = "job"
    acks_late = True

    def run(self, job_id, **kwargs):
        claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started=timezone.now(), heartbeat=timezone.now(), worker=worker_name()
        )
        if not claimed:
            log.info("job %s is not queued any more; skipping", job_id)
            return
        job = Job.objects.get(pk=job_id)
        _push(job)
        ctx = JobContext(job)
        beat = _Heartbeat(ctx)
        beat.start()
        status, error, result = Job.Status.SUCCEEDED, "", {}
        try:
            if job.cancel_requested:
                raise JobCancelled()
            result = self.execute(ctx, **kwargs) or {}
        except JobCancelled:
            status = Job.Status.CANCELLED
            ctx.log("cancelled by user", level="warning")
        except VirtError as exc:
            status, error = Job.Status.FAILED, exc.message
            ctx.log(exc.message, level="error")
        except Exception as exc:  # noqa: BLE001 - the job row must record any failure
            log.exception("job %s failed", job_id)
            status, error = Job.Status.FAILED, f"{type(exc).__name__}: {exc}"
            ctx.log(error, level="error")
        finally:
            beat.stop.set()
            beat.join(timeout=5)
        finish(job, status, error=error, result=result)
        return status


def finish(job, status, error="", result=None):
    fields = {"status": status, "finished": timezone.now(), "error": error, "result": result or {}}
    if status == Job.Status.SUCCEEDED:
        fields["progress"] = 100
    Job.objects.filter(pk=job.pk).update(**fields)
    for key, value in fields.items():
        setattr(job, key, value)
    _push(job)


def enqueue(task, *, user=None, target=None, target_kind=None, host=None, **kwargs):
    """Create the Job row and send the task once the row is committed."""
    target_kind = target_kind or (getattr(target, "job_target_kind", Job.TargetKind.NONE))
    job = Job.objects.create(
        kind=task.kind,
        target_kind=target_kind,
        target_id=str(target.pk) if target is not None else "",
        target_name=str(target) if target is not None else "",
        host=host,
        user=user if user is not None and user.is_authenticated else None,
        params=kwargs,
    )

    def send():
        async_result = task.apply_async(args=[job.pk], kwargs=kwargs)
        Job.objects.filter(pk=job.pk).update(celery_task_id=async_result.id)

    transaction.on_commit(send)
    _push(job)
    return job


def request_cancel(job):
    """Ask a job to stop. A queued job is cancelled at once; a running one at its next check."""
    if job.is_finished:
        return False
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.cancel_requested = True
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).exists():
        finish(job, Job.Status.CANCELLED)
        Job.objects.filter(pk=job.pk).update(log=[*job.log, {"time": timezone.now().isoformat(),
                                                             "level": "warning",
                                                             "message": "cancelled before it started"}])
    return True


def reap_lost_jobs(worker_prefix=None):
    """Fail running jobs whose heartbeat stopped (or whose worker restarted)."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    lost = Job.objects.filter(status=Job.Status.RUNNING, heartbeat__lt=cutoff)
    reaped = []
    for job in lost:
        finish(job, Job.Status.FAILED, error="worker lost: no heartbeat since "
               f"{job.heartbeat:%Y-%m-%d %H:%M:%S} UTC (the worker was killed or died)")
        reaped.append(job.pk)
    return reaped
