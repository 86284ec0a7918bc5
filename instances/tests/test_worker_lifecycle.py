"""Save, restore and a snapshot through a real Celery worker process on a lab guest: the worker finds the
tasks (CELERY_IMPORTS lists instances.lifecycle_jobs) and runs them on a connection of its own; each result is
read with virsh."""
import subprocess

import pytest

from core.models import Job
from core.testing import eventually
from core.tests.test_worker import worker  # noqa: F401 - the fixture: a Celery worker process
from instances.inventory import refresh_one

pytestmark = [pytest.mark.worker, pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def finished(response):
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    eventually(lambda: Job.objects.get(pk=job_id).is_finished, timeout=90, message=f"job {job_id} finished")
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", job.error
    assert job.worker and job.progress == 100
    return job


def virsh(lab, *args):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=True).stdout


def test_it_saves_snapshots_and_restores_in_the_worker(worker, api, lab, make_host, lab_guests):  # noqa: F811
    host = make_host("lab", uri=lab["uri"])
    dom = lab_guests.define(start=True)
    vm = refresh_one(host, dom.UUIDString())

    assert finished(api.post(f"/api/instances/{vm.pk}/save/")).result == {"instance": vm.pk, "state": "shutoff"}
    assert virsh(lab, "domstate", "--reason", dom.name()).strip() == "shut off (saved)"

    job = finished(api.post(f"/api/instances/{vm.pk}/snapshots/", {"name": "s1", "kind": "external"},
                            format="json"))
    assert job.result["snapshot"] == "s1" and virsh(lab, "snapshot-list", dom.name(), "--name").split() == ["s1"]

    assert finished(api.post(f"/api/instances/{vm.pk}/restore/")).result["state"] == "running"
    assert virsh(lab, "domstate", dom.name()).strip() == "running" and dom.hasManagedSaveImage(0) == 0
