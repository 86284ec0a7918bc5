"""Jobs: a Job row per unit of long work; Celery only carries it.

    class RefreshHost(JobTask):
        name = "hosts.refresh"
        kind = "refresh"
        def execute(self, job, host_id):
            job.progress(50, "capabilities read")

    job = enqueue(RefreshHost, user=request.user, target=host, host_id=host.pk)

A heartbeat thread stamps the row every HEARTBEAT seconds and watches the
cancel flag; a job whose heartbeat stops (worker killed) is failed by
`reap_lost_jobs` (Celery beat, and at every worker start), and so is a job that
never reached the broker. Every status change is a guarded UPDATE (`finish`
with `expect`): a reaped job never flips back to succeeded, a finished one is
never reaped.
"""
import logging
import os
import socket
import threading
import time
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from virt.errors import VirtError

from .events import publish
from .models import Job

log = logging.getLogger(__name__)
HEARTBEAT = 2.0
# A queued job without a Celery task id this old was never sent to the broker.
UNSENT_TIMEOUT = timedelta(minutes=10)
# The Celery message header carrying the language of the request that queued a job: the worker runs the job in
# it, so its error (virt/'s messages) reads as the rest of that user's pages.
LANGUAGE_HEADER = "virtdeck_language"


class JobCancelled(Exception):
    pass


# Sent with `job` once a job reaches its final status (the audit log listens; core knows no listener).
job_finished = Signal()


def _push(job):
    target = f"{job.target_kind}:{job.target_id}" if job.target_id else None
    publish("job", id=job.pk, status=job.status, progress=job.progress, host=job.host_id, target=target)


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
                try:
                    rows = Job.objects.filter(pk=self.ctx.id)
                    if rows.filter(cancel_requested=True).exists():
                        self.ctx._cancel_now()
                    if time.monotonic() - last_stamp >= HEARTBEAT:
                        rows.update(heartbeat=timezone.now())
                        last_stamp = time.monotonic()
                except Exception:  # noqa: BLE001 - one DB error must not end heartbeats and cancel
                    log.exception("job %s heartbeat failed; retrying", self.ctx.id)
                    connection.close()  # a broken connection is reopened by the next query
        finally:
            connection.close()  # this thread's own connection


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


class JobTask(Task):
    """Base Celery task: start, heartbeat, cancel, finish the Job row.

    Subclasses set `name` and `kind` and define `execute(self, job, **kwargs)`.
    """

    abstract = True
    kind = "job"
    acks_late = True

    def commands(self, job):
        """The command lines (virt.commands) an admin would type to do this job by hand; shown on its page."""
        return []

    def cleanup_lost(self, job):
        """Remove what this job left half made when its worker died (the reaper calls it). True once nothing is
        left; False to be asked again at the next reap (e.g. while libvirt still writes a copy it cannot stop)."""
        return True

    def run(self, job_id, **kwargs):
        claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started=timezone.now(), heartbeat=timezone.now(), worker=worker_name()
        )
        if not claimed:
            log.info("job %s is not queued any more; skipping", job_id)
            return
        job = Job.objects.get(pk=job_id)
        with translation.override(self._queued_language()):
            return _run_claimed(job, lambda ctx: self.execute(ctx, **kwargs))[0]

    def _queued_language(self):
        """The language of the request that queued the job; None (the default) for a task run directly, which
        has no Celery message (an unregistered task has not even a request stack)."""
        headers = self.request.headers if self.request_stack is not None else None
        return (headers or {}).get(LANGUAGE_HEADER)


def _run_claimed(job, execute):
    """Run execute(ctx) for a job this process has marked running: heartbeat, cancel, final status.

    Returns (status, exception): the exception that failed the job, or None.
    """
    _push(job)
    ctx = JobContext(job)
    beat = _Heartbeat(ctx)
    beat.start()
    status, error, result, failure = Job.Status.SUCCEEDED, "", {}, None
    try:
        if job.cancel_requested:
            raise JobCancelled()
        result = execute(ctx) or {}
    except JobCancelled as exc:
        status, failure = Job.Status.CANCELLED, exc
        ctx.log(_("cancelled by user"), level="warning")
    except VirtError as exc:
        status, error, failure = Job.Status.FAILED, exc.message, exc
        result = getattr(exc, "job_result", None) or {}  # a parent job's per-item outcome, kept on failure
        ctx.log(exc.message, level="error")
    except Exception as exc:  # noqa: BLE001 - the job row must record any failure
        log.exception("job %s failed", job.pk)
        status, error, failure = Job.Status.FAILED, f"{type(exc).__name__}: {exc}", exc
        ctx.log(error, level="error")
    finally:
        beat.stop.set()
        beat.join(timeout=5)
    if not finish(job, status, error=error, result=result, expect={"status": Job.Status.RUNNING}):
        # Reaped meanwhile (heartbeat looked lost): the reaper's verdict stands.
        job.refresh_from_db(fields=["status"])
        log.warning("job %s was %s before it ended (%s); its outcome is dropped", job.pk, job.status, status)
        return job.status, failure
    return status, failure


def finish(job, status, error="", result=None, expect=None):
    """Move the job to a final status; with `expect` (field lookups), only if the row still matches.

    Returns whether the row was changed; the job object and the websocket follow only then.
    """
    fields = {"status": status, "finished": timezone.now(), "error": error, "result": result or {}}
    if status == Job.Status.SUCCEEDED:
        fields["progress"] = 100
    if not Job.objects.filter(pk=job.pk, **(expect or {})).update(**fields):
        return False
    for key, value in fields.items():
        setattr(job, key, value)
    _push(job)
    job_finished.send(sender=Job, job=job)
    return True


def enqueue(task, *, user=None, target=None, target_kind=None, host=None, **kwargs):
    """Create the Job row and send the task once the row is committed.

    If the broker cannot take the task (Redis down), the job fails at once with the reason.
    """
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
    language = translation.get_language()

    def send():
        try:
            async_result = task.apply_async(args=[job.pk], kwargs=kwargs, headers={LANGUAGE_HEADER: language})
        except Exception as exc:  # noqa: BLE001 - kombu/redis errors vary; the job must not stay queued
            log.exception("job %s could not be sent to the broker", job.pk)
            message = _("could not queue: %(error)s") % {"error": exc}
            if finish(job, Job.Status.FAILED, error=message, expect={"status": Job.Status.QUEUED}):
                _append_log(job, message, level="error")
            return
        Job.objects.filter(pk=job.pk).update(celery_task_id=async_result.id)

    _push(job)
    transaction.on_commit(send)
    return job


def _append_log(job, message, level="info"):
    entry = {"time": timezone.now().isoformat(), "level": level, "message": message}
    job.log = [*job.log, entry]
    Job.objects.filter(pk=job.pk).update(log=job.log)


def request_cancel(job):
    """Ask a job to stop. A queued job is cancelled at once; a running one at its next check.

    Returns whether anything was requested (False: the job had finished already).
    """
    now = timezone.now()
    log_entries = [*job.log, {"time": now.isoformat(), "level": "warning", "message": _("cancelled before it started")}]
    fields = {"status": Job.Status.CANCELLED, "finished": now, "cancel_requested": True, "log": log_entries}
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(**fields):
        for key, value in fields.items():
            setattr(job, key, value)
        _push(job)
        job_finished.send(sender=Job, job=job)
        return True
    if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True):
        job.cancel_requested = True
        return True
    return False


# A reaped job's result["cleanup"]: what its worker left half made is removed (done) or still to be (pending).
CLEANUP_PENDING, CLEANUP_DONE = "pending", "done"


def reap_lost_jobs():
    """Fail running jobs whose heartbeat stopped, and queued jobs that never reached the broker.

    Each UPDATE re-checks its condition: a job that finished (or beat) since the SELECT is left alone.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
    reaped = []
    for job in Job.objects.filter(status=Job.Status.RUNNING, heartbeat__lt=cutoff):
        error = (_("worker lost: no heartbeat since %(time)s UTC (the worker was killed or died)")
                 % {"time": f"{job.heartbeat:%Y-%m-%d %H:%M:%S}"})
        if finish(job, Job.Status.FAILED, error=error,
                  expect={"status": Job.Status.RUNNING, "heartbeat__lt": cutoff}):
            reaped.append(job.pk)
            _clean_up_lost(job)
    for job in Job.objects.filter(status=Job.Status.FAILED, result__cleanup=CLEANUP_PENDING):
        _clean_up_lost(job)
    unsent = now - UNSENT_TIMEOUT
    for job in Job.objects.filter(status=Job.Status.QUEUED, celery_task_id="", created__lt=unsent):
        error = (f"never queued: no task reached the broker within {UNSENT_TIMEOUT.seconds // 60} minutes "
                 "(was Redis down?)")
        if finish(job, Job.Status.FAILED, error=error,
                  expect={"status": Job.Status.QUEUED, "celery_task_id": "", "created__lt": unsent}):
            reaped.append(job.pk)
    return reaped


def _clean_up_lost(job):
    """Ask the task of a reaped job to remove what it left; note in the row whether it is still to be done."""
    task = task_for(job)
    try:
        done = task is None or task.cleanup_lost(job)
    except Exception:  # noqa: BLE001 - a host that is down now: try again at the next reap
        log.exception("job %s: cleaning up after the lost worker failed; retrying later", job.pk)
        done = False
    job.refresh_from_db(fields=["result", "log"])
    state = CLEANUP_DONE if done else CLEANUP_PENDING
    if job.result.get("cleanup") != state:
        message = ("removed what the lost worker left" if done else
                   "what the lost worker left is removed at the next reap")
        entry = {"time": timezone.now().isoformat(), "level": "warning", "message": message}
        Job.objects.filter(pk=job.pk).update(result={**job.result, "cleanup": state}, log=[*job.log, entry])


def task_for(job):
    """The JobTask that runs jobs of `job`'s kind, or None."""
    from virtdeck.celery import app  # the registry of every task, filled once the apps have loaded

    for task in app.tasks.values():
        if isinstance(task, JobTask) and task.kind == job.kind:
            return task
    return None


def commands_for(job):
    """The command lines behind `job`, from the task of its kind; none when the task cannot say: its objects
    are gone, or the row lacks a parameter (made by hand, or by an older virtdeck)."""
    task = task_for(job)
    try:
        return task.commands(job) if task is not None else []
    except (ObjectDoesNotExist, KeyError):
        return []


def run_inline(kind, execute, *, user=None, target=None, target_kind=None, host=None, **params):
    """Run execute(ctx) as a job in this thread, not through Celery; the finished Job.

    For work tied to a request that must stay open while it runs (a streamed upload): the row, its
    progress, heartbeat and cancel behave as for a queued job. An exception that failed the job is
    raised again once the row records it, so the caller answers as for any failed call.
    """
    target_kind = target_kind or (getattr(target, "job_target_kind", Job.TargetKind.NONE))
    now = timezone.now()
    job = Job.objects.create(
        kind=kind, target_kind=target_kind, target_id=str(target.pk) if target is not None else "",
        target_name=str(target) if target is not None else "", host=host,
        user=user if user is not None and user.is_authenticated else None, params=params,
        status=Job.Status.RUNNING, started=now, heartbeat=now, worker=worker_name(),
    )
    status, failure = _run_claimed(job, execute)
    if failure is not None:
        failure.job = job
        raise failure
    return job
