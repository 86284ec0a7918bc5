"""Faults while virtdeck runs, on the real lab: a host's libvirtd dies and comes back, Redis restarts, a
worker is killed in the middle of a conversion.

hostB of the two-host lab (lab/hosts) is the libvirtd victim: killed by its pidfile (QEMU keeps running, as
on a real host whose daemon crashes) and started again by `lab/hosts up`. Redis and the worker are the
suite's own, stopped by their pidfile and process group.
"""
import asyncio
import hashlib
import os
import signal
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.urls import reverse

from core import jobs
from core.jobs import CLEANUP_DONE, reap_lost_jobs
from core.models import Job
from core.tasks import wait_job
from core.testing import eventually
from core.tests.test_worker import worker  # noqa: F401 - fixture
from hosts.models import Host
from hosts.sync import sync_host
from instances.inventory import refresh_one
from lab import guest
from storage.tests.test_lab_storage import MIB, lab_pool, random_raw  # noqa: F401 - lab_pool: a fixture
from virtdeck import daemons

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def guest_on_b(two_hosts):
    """A running TCG guest on hostB, its disk in the shared directory; removed at the end."""
    name = f"vd-fault-{uuid.uuid4().hex[:8]}"
    disk = guest.make_disk(two_hosts["shared"], name)
    conn = libvirt.open(two_hosts["b"]["uri"])
    dom = conn.defineXML(guest.domain_xml(name, disk))
    dom.create()
    conn.close()
    yield name
    conn = libvirt.open(two_hosts["b"]["uri"])
    guest.remove(conn, name)
    conn.close()
    os.unlink(disk)


def kill_libvirtd(two_hosts, key):
    pidfile = two_hosts["shared"].parent / two_hosts[key]["name"] / "pids" / "libvirtd.pid"
    os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)  # the lab's own daemon, by its pidfile


def state_on(uri, name):
    conn = libvirt.open(uri)
    try:
        return conn.lookupByName(name).state()[0]
    finally:
        conn.close()


def test_it_shows_a_restarted_libvirtd_unreachable_then_reconnects_on_the_next_action(api, make_host, two_hosts,
                                                                                      guest_on_b):
    uri = two_hosts["b"]["uri"]
    host = make_host(host_name="hostB", uri=uri)
    conn = libvirt.open(uri)
    row = refresh_one(host, conn.lookupByName(guest_on_b).UUIDString())
    conn.close()
    assert api.post(f"/api/instances/{row.pk}/suspend/").status_code == 200  # the pooled connection is in use

    kill_libvirtd(two_hosts, "b")
    try:
        assert sync_host(host) is None
        host.refresh_from_db()
        assert host.state != Host.State.UP and host.last_error
        answer = api.get(f"/api/hosts/{host.pk}/")
        assert answer.status_code == 200 and answer.json()["state"] == host.state  # the API keeps answering
    finally:
        subprocess.run([str(ROOT / "lab" / "hosts"), "up"], capture_output=True, check=True)

    # The guest outlived its daemon. Within the pool's backoff after the failures (1 s, doubling) an action
    # answers 503 with the last error at once, without a new connection attempt; the first one after it
    # reconnects by itself and acts.
    assert state_on(uri, guest_on_b) == libvirt.VIR_DOMAIN_PAUSED
    answers = []

    def resume():
        answers.append(api.post(f"/api/instances/{row.pk}/resume/"))
        return answers[-1].status_code != 503

    eventually(resume, timeout=60, interval=0.5, message="an action after the backoff")
    resumed = answers[-1]
    assert resumed.status_code == 200, resumed.content
    assert all(answer.json()["error"] == "HostUnreachable" for answer in answers[:-1])
    assert resumed.json()["state"] == "running" and state_on(uri, guest_on_b) == libvirt.VIR_DOMAIN_RUNNING
    eventually(lambda: sync_host(host) is not None, timeout=30, message="the host synced again")
    host.refresh_from_db()
    assert host.state == Host.State.UP and not host.last_error


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_fails_a_conversion_whose_worker_is_killed_and_leaves_no_partial_volume(api, lab_pool, tmp_path, worker):
    source = random_raw(api, lab_pool, tmp_path, "source.raw", 512 * MIB)
    before = hashlib.sha256((tmp_path / "source.raw").read_bytes()).hexdigest()
    response = api.post(reverse("api-storage:volume-convert", args=[source.pk]),
                        {"format": "qcow2", "name": "half.qcow2"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    eventually(lambda: (tmp_path / "half.qcow2").exists(), timeout=60, message="the copy under way")
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool children: our own process group

    def cleaned_up():
        reap_lost_jobs()  # what Celery beat runs; JOB_HEARTBEAT_TIMEOUT is short in the test settings
        job.refresh_from_db()
        return job.status == "failed" and job.result.get("cleanup") == CLEANUP_DONE

    eventually(cleaned_up, timeout=180, interval=1, message="the lost job failed and cleaned up")
    assert "worker lost" in job.error
    assert not (tmp_path / "half.qcow2").exists()
    listed = subprocess.run(["virsh", "-q", "-c", lab_pool.host.uri, "vol-list", lab_pool.name], check=True,
                            capture_output=True, text=True).stdout
    assert "half.qcow2" not in listed and "source.raw" in listed
    assert hashlib.sha256((tmp_path / "source.raw").read_bytes()).hexdigest() == before  # the source is intact


def push_arrives(group):
    """A message sent to a Channels group over Redis reaches a member: what every live page update rides on."""
    async def round_trip():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await layer.group_send(group, {"type": "probe", "n": 1})
        return await asyncio.wait_for(layer.receive(channel), 10)

    return async_to_sync(round_trip)()["n"] == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_keeps_answering_through_a_redis_restart_and_then_runs_jobs_and_pushes_again(admin_client, api,
                                                                                       make_host, worker):
    host = make_host("small")
    assert push_arrives("fault-before")
    running = jobs.enqueue(wait_job, seconds=6, steps=6)
    eventually(lambda: Job.objects.get(pk=running.pk).status == "running", timeout=30, message="job running")

    daemons.stop_redis(settings.RUN_DIR)  # our own Redis, by its pidfile
    try:
        for page in ("/", "/instances/", f"/hosts/{host.pk}/", "/jobs/"):
            assert admin_client.get(page).status_code == 200, page
        assert api.get("/api/instances/").status_code == 200 and api.get(f"/api/hosts/{host.pk}/").status_code == 200
        refused = jobs.enqueue(wait_job, seconds=1, steps=1)  # the broker is down: it fails at once, saying why
        refused.refresh_from_db()
        assert refused.status == "failed" and refused.error.startswith("could not queue")
    finally:
        daemons.start_redis(settings.RUN_DIR)

    # No job stays running: the one that ran through the outage ends (its worker reconnects to report).
    eventually(lambda: Job.objects.get(pk=running.pk).status in Job.FINISHED, timeout=90, interval=0.5,
               message="the job that ran through the outage ended")
    after = jobs.enqueue(wait_job, seconds=0.5, steps=2)
    eventually(lambda: Job.objects.get(pk=after.pk).status == "succeeded", timeout=90, interval=0.5,
               message="a new job ran after the restart")
    assert push_arrives("fault-after")
