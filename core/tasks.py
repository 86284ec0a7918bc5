import time

from celery import shared_task
from celery.signals import worker_ready

from virtdeck.celery import app

from .jobs import JobTask, reap_lost_jobs


@shared_task(name="core.tasks.reap_lost_jobs")
def reap_lost_jobs_task():
    return reap_lost_jobs()


@worker_ready.connect
def _reap_at_start(**_kwargs):
    reap_lost_jobs()


class WaitJob(JobTask):
    """Waits in steps: a real long job for exercising progress, cancel and worker loss."""

    name = "core.tasks.wait"
    kind = "wait"

    def execute(self, job, seconds=10, steps=20):
        for step in range(1, steps + 1):
            deadline = time.monotonic() + seconds / steps
            while time.monotonic() < deadline:
                job.check()
                job.cancelled.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            job.progress(step * 100 // steps)
        return {"waited": seconds}


wait_job = app.register_task(WaitJob())
