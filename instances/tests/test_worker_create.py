"""The create job through a real Celery worker process: the worker finds the task (CELERY_IMPORTS) and runs it.

The worker opens its own copy of the test-driver node, so the result is read from the job and the row the
worker wrote, not from this process's libvirt connection."""
import pytest

from core.models import Job
from core.testing import eventually
from core.tests.test_worker import worker  # noqa: F401 - the fixture: a Celery worker process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_it_runs_the_create_job_in_the_worker(worker, api, make_host):  # noqa: F811
    host = make_host("wizard")
    response = api.post("/api/instances/", {"host": host.pk, "name": "vm1", "memory_mib": 256,
                                            "disk_pool": "images", "disk_size_gib": 1}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    eventually(lambda: Job.objects.get(pk=job_id).is_finished, timeout=60, message="create job finished")
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", job.error
    assert job.result["name"] == "vm1" and job.worker and job.progress == 100
    assert any("creating volume images/vm1.qcow2" in entry["message"] for entry in job.log)
