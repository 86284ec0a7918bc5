import time

from celery import shared_task
from celery.signals import beat_init, heartbeat_sent, worker_ready

from virtdeck.celery import app

from . import health
from .jobs import JobTask, reap_lost_jobs


@shared_task(name="core.tasks.reap_lost_jobs")
def reap_lost_jobs_task():
    return reap_lost_jobs()


@worker_ready.connect
def _reap_at_start(**_kwargs):
    reap_lost_jobs()


@heartbeat_sent.connect
def _worker_heartbeat(**_kwargs):
    """Celery's worker heartbeat (every 2 s while connected to the broker) marks the worker's queues alive."""
    for queue in app.amqp.queues.consume_from:
        if queue in health.QUEUE_COMPONENTS:
            health.beat(health.QUEUE_COMPONENTS[queue])


@beat_init.connect
def _beat_heartbeat(**_kwargs):
    health.beat_forever("beat")


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
