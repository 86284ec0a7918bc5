"""Jobs in-process: the base task's bookkeeping, cancel, the reaper and the API."""
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from core import jobs
from core.models import Job
from core.tasks import wait_job
from core.testing import eventually
from hosts.tasks import refresh_host

pytestmark = pytest.mark.django_db(transaction=True)


def new_job(task, **kwargs):
    return Job.objects.create(kind=task.kind, params=kwargs)


def test_it_runs_a_job_to_success_with_progress_and_log(make_host, admin_user):
    host = make_host("small")
    job = jobs.enqueue(refresh_host, user=admin_user, target=host, host=host, host_id=host.pk)
    assert job.status == "queued" and job.target_kind == "host" and job.user == admin_user
    assert refresh_host.run(job.pk, host_id=host.pk) == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress == 100 and job.result == {"instances": 3}
    assert job.started and job.finished and job.worker
    assert [entry["message"] for entry in job.log][-1] == "3 instances synced"


def test_it_records_a_failure_with_libvirts_message(make_host):
    from hosts.models import Host

    host = make_host("small")
    Host.objects.filter(pk=host.pk).update(uri="qemu+tcp://127.0.0.1:1/system")
    job = new_job(refresh_host)
    assert refresh_host.run(job.pk, host_id=host.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "Connection refused" in job.error
    assert job.log[-1]["level"] == "error"


def test_it_does_not_run_a_job_twice():
    job = new_job(wait_job)
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    assert wait_job.run(job.pk, seconds=0.1, steps=1) is None


def test_it_cancels_a_queued_job_at_once():
    job = new_job(wait_job)
    assert jobs.request_cancel(job)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished
    assert wait_job.run(job.pk) is None  # a late message does nothing


def test_it_cancels_a_running_job_at_its_next_check():
    job = new_job(wait_job)
    result = {}
    thread = threading.Thread(target=lambda: result.update(status=wait_job.run(job.pk, seconds=30, steps=30)))
    thread.start()
    eventually(lambda: Job.objects.get(pk=job.pk).progress >= 3, timeout=10, message="job made progress")
    jobs.request_cancel(Job.objects.get(pk=job.pk))
    thread.join(timeout=10)
    job.refresh_from_db()
    assert result["status"] == "cancelled" and job.status == "cancelled" and 3 <= job.progress < 100
    assert any("cancelled" in entry["message"] for entry in job.log)


def test_it_fails_jobs_whose_heartbeat_stopped():
    stale = Job.objects.create(kind="wait", status="running", heartbeat=timezone.now() - timedelta(minutes=5))
    fresh = Job.objects.create(kind="wait", status="running", heartbeat=timezone.now())
    assert jobs.reap_lost_jobs() == [stale.pk]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and "worker lost" in stale.error
    assert fresh.status == "running"


def test_it_lists_filters_and_cancels_through_the_api(api):
    queued = new_job(wait_job)
    done = Job.objects.create(kind="refresh_host", status="succeeded")
    listing = api.get("/api/jobs/", {"status": "queued"}).json()
    assert [j["id"] for j in listing["results"]] == [queued.pk]
    assert api.get(f"/api/jobs/{done.pk}/").json()["status"] == "succeeded"
    response = api.post(f"/api/jobs/{queued.pk}/cancel/")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert api.post(f"/api/jobs/{done.pk}/cancel/").status_code == 409
    assert api.post("/api/jobs/999999/cancel/").status_code == 404


def test_it_shows_jobs_and_their_log_in_the_ui(admin_client, make_host):
    host = make_host("small")
    job = new_job(refresh_host)
    refresh_host.run(job.pk, host_id=host.pk)
    listing = admin_client.get("/jobs/")
    assert listing.status_code == 200 and f"#{job.pk}".encode() in listing.content
    detail = admin_client.get(f"/jobs/{job.pk}/")
    assert b"3 instances synced" in detail.content and b"100%" in detail.content
