"""Enqueue when the broker is down: the job fails with the reason instead of staying queued forever."""
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from core import jobs
from core.models import Job
from core.tasks import wait_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_fails_a_job_the_broker_would_not_take(monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(wait_job, "apply_async", broker_down)
    job = jobs.enqueue(wait_job, seconds=1)  # autocommit: the on_commit callback runs at once
    assert job.status == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.finished and not job.celery_task_id
    assert job.error == "could not queue: Error 111 connecting to localhost:6379. Connection refused."
    assert job.log[-1]["level"] == "error"


def test_it_fails_queued_jobs_that_never_reached_the_broker():
    old = timezone.now() - timedelta(minutes=11)
    unsent = Job.objects.create(kind="wait", created=old)
    sent = Job.objects.create(kind="wait", created=old, celery_task_id="d1c6a0e2")
    recent = Job.objects.create(kind="wait")
    assert jobs.reap_lost_jobs() == [unsent.pk]
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses == {unsent.pk: "failed", sent.pk: "queued", recent.pk: "queued"}
    assert "never queued" in Job.objects.get(pk=unsent.pk).error
