"""Save, restore and snapshot jobs (instances/lifecycle_jobs.py) on libvirt's test driver: what the request
checks before queueing, what the job checks again, bulk save. Each job runs here in-process (tests/jobs.py);
results are read back from libvirt on the app's own connection (small.xml: web1 runs, db1 is shut off).
The same on real QEMU guests, with progress: test_lab_lifecycle.py and test_lab_snapshots.py."""
import pytest

from core.models import Job
from hosts.connection import call
from instances.models import Instance
from instances.tests.jobs import run_queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(make_host):
    return make_host("small")


def on_libvirt(vm, fn):
    uuid = str(vm.uuid)
    return call(vm.host, lambda conn: fn(conn.lookupByUUIDString(uuid)))


def test_it_queues_a_save_job_per_vm_from_the_bulk_action(api, small):
    vms = [Instance.objects.get(name=name) for name in ("web1", "cache1", "db1")]

    response = api.post("/api/instances/bulk/", {"action": "save", "ids": [vm.pk for vm in vms]}, format="json")

    body = response.json()
    assert response.status_code == 200 and (body["succeeded"], body["failed"]) == (2, 1)
    web1, cache1, db1 = body["results"]
    assert web1["ok"] and cache1["ok"] and not db1["ok"] and db1["status"] == 409
    jobs = Job.objects.filter(kind="save_instance").order_by("pk")
    assert [job.pk for job in jobs] == [web1["job"], cache1["job"]]
    assert not on_libvirt(vms[0], lambda dom: dom.hasManagedSaveImage(0))  # the jobs do it, not the request
    assert [run_queued(job).status for job in jobs] == ["succeeded", "succeeded"]
    assert all(on_libvirt(vm, lambda dom: dom.hasManagedSaveImage(0)) for vm in vms[:2])
    assert set(Instance.objects.filter(pk__in=[vms[0].pk, vms[1].pk]).values_list("state", flat=True)) == {"shutoff"}


def test_it_says_on_the_list_which_jobs_a_bulk_save_queued(admin_client, small):
    web1 = Instance.objects.get(name="web1")
    response = admin_client.post("/instances/bulk/", {"action": "save", "ids": [web1.pk]}, follow=True)
    job = Job.objects.get()
    assert [str(m) for m in response.context["messages"]] == [f"Save and stop: jobs queued for web1 (#{job.pk})."]


def test_it_fails_the_job_when_the_vm_changed_after_the_request(api, small):
    web1 = Instance.objects.get(name="web1")
    response = api.post(f"/api/instances/{web1.pk}/save/")
    on_libvirt(web1, lambda dom: dom.destroy())  # stopped before the worker got to it

    job = run_queued(response)

    assert job.status == "failed" and job.error == "Cannot save a VM that is shut off."
    assert not on_libvirt(web1, lambda dom: dom.hasManagedSaveImage(0))


def test_it_restores_in_a_job_and_the_row_follows(api, small):
    web1 = Instance.objects.get(name="web1")
    assert run_queued(api.post(f"/api/instances/{web1.pk}/save/")).status == "succeeded"

    job = run_queued(api.post(f"/api/instances/{web1.pk}/restore/"))

    assert job.status == "succeeded" and job.result == {"instance": web1.pk, "state": "running"}
    assert on_libvirt(web1, lambda dom: dom.state()[0]) == 1
    assert not on_libvirt(web1, lambda dom: dom.hasManagedSaveImage(0))
    assert Instance.objects.get(pk=web1.pk).state == "running"


def test_it_refuses_a_snapshot_name_taken_meanwhile_in_the_job(api, small):
    web1 = Instance.objects.get(name="web1")
    response = api.post(f"/api/instances/{web1.pk}/snapshots/", {"name": "s1"}, format="json")
    on_libvirt(web1, lambda dom: dom.snapshotCreateXML("<domainsnapshot><name>s1</name></domainsnapshot>", 0))

    job = run_queued(response)

    assert job.status == "failed" and job.error == "name: web1 already has a snapshot named s1."
    assert [s.getName() for s in on_libvirt(web1, lambda dom: dom.listAllSnapshots(0))] == ["s1"]


def test_it_shows_the_virsh_line_of_each_job_on_its_page(api, admin_client, small):
    from core.jobs import commands_for

    web1, uri = Instance.objects.get(name="web1"), small.uri
    saved = Job.objects.get(pk=api.post(f"/api/instances/{web1.pk}/save/").json()["id"])
    taken = Job.objects.get(pk=api.post(f"/api/instances/{web1.pk}/snapshots/",
                                        {"name": "before upgrade", "kind": "external"}, format="json").json()["id"])
    assert [str(c) for c in commands_for(saved)] == [f"virsh -c {uri} managedsave web1"]
    assert [str(c) for c in commands_for(taken)] == [
        f"virsh -c {uri} snapshot-create-as web1 'before upgrade' --disk-only --atomic"]
    assert "managedsave web1" in admin_client.get(saved.get_absolute_url()).content.decode()
