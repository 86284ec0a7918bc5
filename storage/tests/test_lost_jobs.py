"""A copy whose worker died: the reaper fails the job and deletes the half-made volume, on the test driver."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.jobs import CLEANUP_DONE, CLEANUP_PENDING, reap_lost_jobs
from core.models import Job
from hosts.connection import call
from storage import services
from storage.models import Volume
from virt import volumes as virt_volumes
from virt.errors import OperationInvalid

pytestmark = pytest.mark.django_db


def lost_copy(pool, name):
    """A convert job that was running on a worker which stopped beating a minute ago."""
    minute_ago = timezone.now() - timedelta(minutes=1)
    return Job.objects.create(kind="convert_volume", status=Job.Status.RUNNING, heartbeat=minute_ago,
                              started=minute_ago, params={"volume_id": 1, "name": name,
                                                          "target_pool_id": pool.pk, "volume_format": "qcow2"})


def names_on_host(pool):
    return {volume.name() for volume in call(pool.host, lambda conn: conn.storagePoolLookupByName(pool.name)
                                               .listAllVolumes())}


def test_it_fails_the_job_and_deletes_the_volume_its_worker_left(images):
    services.create_volume(images, "half.qcow2", 1 << 20, "qcow2")
    job = lost_copy(images, "half.qcow2")
    assert job.pk in reap_lost_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and "worker lost" in job.error and job.result["cleanup"] == CLEANUP_DONE
    assert "half.qcow2" not in names_on_host(images)  # read from libvirt
    assert not Volume.objects.filter(pool=images, name="half.qcow2").exists()
    assert "thin.raw" in names_on_host(images)  # nothing else touched


def test_it_retries_while_libvirt_still_writes_the_copy(images, monkeypatch):
    # The test driver has no copy in progress to refuse a delete; libvirt's refusal is raised here instead.
    services.create_volume(images, "busy.qcow2", 1 << 20, "qcow2")
    job = lost_copy(images, "busy.qcow2")
    real_delete = virt_volumes.delete_volume

    def still_allocating(conn, pool_name, name):
        raise OperationInvalid(f"volume '{name}' is still being allocated.")

    monkeypatch.setattr(virt_volumes, "delete_volume", still_allocating)
    reap_lost_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and job.result["cleanup"] == CLEANUP_PENDING
    assert "busy.qcow2" in names_on_host(images)

    monkeypatch.setattr(virt_volumes, "delete_volume", real_delete)
    reap_lost_jobs()  # the next round
    job.refresh_from_db()
    assert job.result["cleanup"] == CLEANUP_DONE and "busy.qcow2" not in names_on_host(images)
    assert [entry["message"] for entry in job.log][-2:] == [
        "what the lost worker left is removed at the next reap", "removed what the lost worker left"]


def test_it_leaves_a_finished_jobs_volume_alone(images):
    services.create_volume(images, "done.qcow2", 1 << 20, "qcow2")
    job = lost_copy(images, "done.qcow2")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, result={"volume": 1})
    assert reap_lost_jobs() == []
    assert "done.qcow2" in names_on_host(images)
