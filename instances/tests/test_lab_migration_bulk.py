"""Bulk Migrate on the two lab hosts (lab/hosts): real libvirtd + QEMU (TCG), checked with virsh on both.

The parent job runs in-process (`migrate_many.run`), the worker's code path without a worker.
"""
from types import SimpleNamespace

import pytest

from core.models import Job
from hosts.sync import sync_host
from instances.migration_tasks import migrate_many
from instances.models import Instance
from instances.tests.test_lab_migration import lab_vms, pair, runs_on  # noqa: F401 - fixtures

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    monkeypatch.setattr(migrate_many, "apply_async", lambda *args, **kwargs: SimpleNamespace(id="in-process"))


def test_it_migrates_two_selected_vms_a_to_b_each_its_own_job(api, admin_client, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    names = [lab_vms("shared"), lab_vms("shared")]
    sync_host(host_a)
    rows = [Instance.objects.get(host=host_a, name=name) for name in names]
    ids = [row.pk for row in rows]

    precheck = api.get("/api/instances/bulk/migrate/", {"ids": ids})
    assert precheck.status_code == 200
    for row in precheck.json():
        (to_b,) = [check for check in row["hosts"] if check["host_name"] == "hostB"]
        # Both hosts see the shared directory, which libvirt cannot know to be one: it needs `unsafe`.
        assert to_b["can"] and to_b["storage"] == "shared" and to_b["needs_unsafe"], to_b

    response = api.post("/api/instances/bulk/migrate/",
                        {"ids": ids, "target_host": host_b.pk, "parallel": 2, "unsafe": True}, format="json")
    assert response.status_code == 202, response.content
    parent = Job.objects.get(pk=response.json()["id"])
    assert migrate_many.run(parent.pk, **parent.params) == "succeeded", Job.objects.get(pk=parent.pk).error
    parent.refresh_from_db()
    assert [(m["id"], m["source"], m["target"]) for m in parent.result["moved"]] == [
        (pk, "hostA", "hostB") for pk in ids]
    assert not parent.result["failed"]
    children = Job.objects.filter(pk__in=parent.result["children"])
    assert children.count() == 2 and all(child.status == "succeeded" and child.params["parent"] == parent.pk
                                         for child in children)
    assert {child.params["instance_id"] for child in children} == set(ids)
    for name in names:  # virsh on both hosts, not only virtdeck's word
        assert runs_on(two_hosts["b"]["uri"], name) == "running"
        assert runs_on(two_hosts["a"]["uri"], name) == ""
    # Same rows, same ids, now on hostB.
    assert set(Instance.objects.filter(pk__in=ids).values_list("host__name", flat=True)) == {"hostB"}
    page = admin_client.get(f"/jobs/{parent.pk}/").content.decode()
    for name, child in zip(names, parent.result["moved"]):
        assert f'<tr data-vm="{name}" data-outcome="moved">' in page and f'href="/jobs/{child["job"]}/"' in page
