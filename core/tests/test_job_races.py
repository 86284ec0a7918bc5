"""Job status races: heartbeat errors, the reaper against a finishing worker, cancel of a stale job."""
import threading
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from core import jobs
from core.models import Job
from core.testing import eventually

pytestmark = pytest.mark.django_db(transaction=True)


def stale_running_job():
    return Job.objects.create(kind="wait", status="running", started=timezone.now(),
                              heartbeat=timezone.now() - timedelta(minutes=5))


def test_it_keeps_heartbeating_and_watching_cancel_after_a_database_error(monkeypatch):
    job = stale_running_job()
    old_beat = job.heartbeat
    real_filter = Job.objects.filter
    failures, closed_by = [], []

    def flaky_filter(*args, **kwargs):
        if threading.current_thread().name.startswith("job-") and not failures:
            failures.append(True)
            raise OperationalError("database is locked")
        return real_filter(*args, **kwargs)

    class ConnectionSpy:
        def close(self):
            closed_by.append(threading.current_thread().name)
            from django.db import connection
            connection.close()

    monkeypatch.setattr(Job.objects, "filter", flaky_filter)
    monkeypatch.setattr(jobs, "connection", ConnectionSpy(), raising=False)
    monkeypatch.setattr(jobs, "HEARTBEAT", 0)
    ctx = jobs.JobContext(job)
    beat = jobs._Heartbeat(ctx)
    beat.start()
    try:
        eventually(lambda: failures, message="the heartbeat hit the database error")
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        eventually(ctx.cancelled.is_set, message="cancel seen after the error")
        eventually(lambda: Job.objects.get(pk=job.pk).heartbeat > old_beat, message="heartbeat stamped")
    finally:
        beat.stop.set()
        beat.join(timeout=10)
    assert not beat.is_alive()
    # once after the error, once when the thread ends: the thread never leaks its connection
    assert closed_by.count(beat.name) >= 2


class ReapedMidway(jobs.JobTask):
    """A job the reaper fails while it still runs (heartbeat looked lost), which then completes."""

    name = "core.tests.reaped_midway"
    kind = "wait"

    def execute(self, job):
        Job.objects.filter(pk=job.id).update(status="failed", error="worker lost: no heartbeat")
        return {"done": True}


def test_it_keeps_a_reaped_job_failed_when_its_task_completes_later():
    job = Job.objects.create(kind="wait")
    assert ReapedMidway().run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "worker lost: no heartbeat" and job.result == {}


def test_it_does_not_fail_a_job_that_finished_between_the_reapers_select_and_update(monkeypatch):
    job = stale_running_job()
    real_finish = jobs.finish

    def worker_finishes_first(target, *args, **kwargs):
        Job.objects.filter(pk=target.pk).update(status="succeeded", progress=100, finished=timezone.now())
        return real_finish(target, *args, **kwargs)

    monkeypatch.setattr(jobs, "finish", worker_finishes_first)
    assert jobs.reap_lost_jobs() == []
    job.refresh_from_db()
    assert job.status == "succeeded" and job.error == ""


def test_it_does_not_fail_a_job_whose_heartbeat_came_back_before_the_update(monkeypatch):
    job = stale_running_job()
    real_finish = jobs.finish

    def heartbeat_first(target, *args, **kwargs):
        Job.objects.filter(pk=target.pk).update(heartbeat=timezone.now())
        return real_finish(target, *args, **kwargs)

    monkeypatch.setattr(jobs, "finish", heartbeat_first)
    assert jobs.reap_lost_jobs() == []
    assert Job.objects.get(pk=job.pk).status == "running"


def test_it_refuses_to_cancel_a_job_that_finished_since_it_was_read():
    job = Job.objects.create(kind="wait")
    Job.objects.filter(pk=job.pk).update(status="succeeded", progress=100)
    assert jobs.request_cancel(job) is False  # `job` still says queued
    job.refresh_from_db()
    assert job.status == "succeeded" and not job.cancel_requested


def test_it_asks_a_job_claimed_since_it_was_read_to_stop_instead_of_cancelling_it_outright():
    job = Job.objects.create(kind="wait")
    Job.objects.filter(pk=job.pk).update(status="running", started=timezone.now(), heartbeat=timezone.now())
    assert jobs.request_cancel(job) is True
    job.refresh_from_db()
    assert job.status == "running" and job.cancel_requested and job.finished is None


def test_it_cancels_a_queued_job_in_one_step_with_a_log_entry():
    job = Job.objects.create(kind="wait")
    assert jobs.request_cancel(job) is True
    job.refresh_from_db()
    assert job.status == "cancelled" and job.cancel_requested and job.finished
    assert job.log[-1]["message"] == "cancelled before it started"
