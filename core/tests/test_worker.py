"""Jobs through a real Celery worker process: progress, cancel, and a worker killed mid-job."""
import os
import signal
import sys

import pytest
from django.conf import settings

from core import health, jobs
from core.models import Job
from core.tasks import wait_job
from core.testing import AppProcess, eventually

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    """A Celery worker (and its pool child) in its own process group, on the test database and Redis."""
    proc = AppProcess("worker", [sys.executable, "-m", "celery", "-A", "virtdeck", "worker", "-l", "info",
                                 "--concurrency", "1", "-n", f"test-{os.getpid()}@%h", "--without-mingle",
                                 "--without-gossip"], tmp_path)
    proc.wait_until(lambda: "ready." in proc.output(), timeout=60, what="ready")
    yield proc
    proc.stop()


def test_it_marks_the_queue_of_a_running_worker_alive(worker):
    """Celery's worker heartbeat writes ours: this worker consumes the default queue only."""
    health.client().delete(*(health.KEY.format(name) for name in health.COMPONENTS))
    eventually(lambda: health.status().is_up("worker"), timeout=10, message="job worker heartbeat")
    assert not health.status().is_up("inventory")


def running_with_progress(job):
    job.refresh_from_db()
    return job.status == "running" and job.progress >= 10


def test_it_runs_a_job_in_the_worker_and_cancels_it(worker, api):
    job = jobs.enqueue(wait_job, seconds=60, steps=60)
    eventually(lambda: running_with_progress(job), timeout=30, message="job running in the worker")
    assert job.celery_task_id or Job.objects.get(pk=job.pk).celery_task_id
    response = api.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 202
    eventually(lambda: Job.objects.get(pk=job.pk).status == "cancelled", timeout=10, message="job cancelled")
    job.refresh_from_db()
    assert job.progress < 100 and job.finished and job.worker  # host:pid of the worker that ran it


def test_it_finishes_a_short_job_in_the_worker(worker):
    job = jobs.enqueue(wait_job, seconds=0.5, steps=5)
    eventually(lambda: Job.objects.get(pk=job.pk).status == "succeeded", timeout=30, message="job succeeded")
    assert Job.objects.get(pk=job.pk).result == {"waited": 0.5}


def test_it_fails_the_job_of_a_killed_worker(worker):
    job = jobs.enqueue(wait_job, seconds=120, steps=120)
    eventually(lambda: running_with_progress(job), timeout=30, message="job running in the worker")
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool children: our own process group
    worker.proc.wait(timeout=10)
    # What Celery beat runs every 15 s (and every worker runs at start).
    eventually(lambda: jobs.reap_lost_jobs() or Job.objects.get(pk=job.pk).status == "failed",
               timeout=settings.JOB_HEARTBEAT_TIMEOUT + 10, interval=0.5, message="lost job reaped")
    job.refresh_from_db()
    assert job.status == "failed" and "worker lost" in job.error
    assert 10 <= job.progress < 100
