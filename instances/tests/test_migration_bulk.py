"""Migrate several VMs from the list (instances/bulk_migration.py): the per-VM precheck, the refusals and
the parent job's per-VM result, on libvirt's test driver. Real moves: test_lab_migration_bulk.py."""
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Job
from hosts.models import Host
from instances.migration_tasks import migrate_many
from instances.models import Instance

pytestmark = pytest.mark.django_db
URL = "/api/instances/bulk/migrate/"


@pytest.fixture
def vms(make_host):
    """web1 (running, on network 'default') and db1 (shut off) on `small`; `empty` has no network 'default',
    `networks` has a web1 of its own."""
    small = make_host("small")
    make_host("networks", host_name="networks")
    make_host("empty", host_name="empty")
    return Instance.objects.get(host=small, name="web1"), Instance.objects.get(host=small, name="db1")


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(migrate_many, "apply_async", lambda *args, **kwargs: SimpleNamespace(id="in-process"))


def host(name):
    return Host.objects.get(name=name)


def test_it_prechecks_each_vm_against_every_other_host(api, vms):
    web1, db1 = vms
    response = api.get(URL, {"ids": [web1.pk, db1.pk]})
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(row["name"], row["host_name"], row["error"]) for row in rows] == [("web1", "small", None),
                                                                              ("db1", "small", None)]
    web1_hosts = {check["host_name"]: check for check in rows[0]["hosts"]}
    assert sorted(web1_hosts) == ["empty", "networks"]  # not its own host
    assert ("The VM's network 'default' does not exist or is not active on this host."
            in web1_hosts["empty"]["reasons"])
    assert "A VM with the same name or UUID is already defined there: web1." in web1_hosts["networks"]["reasons"]
    assert all("The VM is not running: live migration moves a running VM." in check["reasons"]
               for check in rows[1]["hosts"])


def test_it_says_which_vm_could_not_be_checked_when_its_own_host_is_down(api, vms, make_host):
    web1, _db1 = vms
    fleet = make_host("fleet", host_name="fleet")
    other = Instance.objects.filter(host=fleet).order_by("name").first()
    Host.objects.filter(pk=web1.host_id).update(uri="qemu+tcp://127.0.0.1:1/system")
    rows = api.get(URL, {"ids": [web1.pk, other.pk]}).json()
    assert "Connection refused" in rows[0]["error"] and rows[0]["hosts"] == []
    assert rows[1]["error"] is None and len(rows[1]["hosts"]) == 3  # small (down), networks, empty


@pytest.mark.parametrize("query", [{}, {"ids": "abc"}, {"ids": "0"}, {"ids": "999999"}, {"ids": ["1"] * 51}],
                         ids=["none", "not-a-number", "zero", "unknown", "too-many"])
def test_it_refuses_a_bad_precheck_query_naming_ids(api, vms, query):
    response = api.get(URL, query)
    assert response.status_code == 400 and "ids" in response.json(), response.content


@pytest.mark.parametrize("body, field", [
    ({}, "ids"),
    ({"ids": []}, "ids"),
    ({"ids": "WEB1"}, "ids"),
    ({"ids": ["x"]}, "ids"),
    ({"ids": ["WEB1", "WEB1"]}, "ids"),
    ({"ids": [999999]}, "ids"),
    ({"ids": ["WEB1"], "target_host": 999999}, "target_host"),
    ({"ids": ["WEB1"], "target_host": "small; rm -rf /"}, "target_host"),
    ({"ids": ["WEB1"], "parallel": 0}, "parallel"),
    ({"ids": ["WEB1"], "parallel": 99}, "parallel"),
    ({"ids": ["WEB1"], "unsafe": "maybe"}, "unsafe"),
    ({"ids": ["WEB1"], "storage": "shared"}, "storage"),  # unknown field: storage follows each precheck
    ({"ids": ["WEB1"], "target_host": "DOWN"}, "target_host"),
], ids=lambda value: repr(value)[:50])
def test_it_refuses_bad_requests_naming_the_field_and_starts_nothing(api, vms, body, field):
    web1, _db1 = vms
    Host.objects.create(name="down", uri="qemu+tcp://127.0.0.1:1/system", state=Host.State.UNREACHABLE)
    names = {"WEB1": web1.pk, "DOWN": host("down").pk}
    resolved = {key: ([names.get(item, item) for item in value] if isinstance(value, list)
                      else names.get(value, value)) for key, value in body.items()}
    response = api.post(URL, resolved, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists()


def test_it_refuses_a_body_that_is_not_an_object(api, vms):
    for body in ("[1, 2]", "\"x\"", "{", "null"):
        assert api.post(URL, body, content_type="application/json").status_code == 400, body
    assert not Job.objects.exists()


def test_it_refuses_a_vm_whose_migration_already_runs(api, vms, no_broker):
    web1, db1 = vms
    Job.objects.create(kind="migrate", target_kind=Instance.job_target_kind, target_id=str(web1.pk),
                       status=Job.Status.RUNNING)
    response = api.post(URL, {"ids": [db1.pk, web1.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["ids"] == ["A migration is already running for: web1."]
    assert not Job.objects.filter(kind="migrate_many").exists()


def test_it_starts_one_parent_job_and_keeps_each_vms_outcome_when_none_can_move(api, vms, no_broker):
    web1, db1 = vms
    response = api.post(URL, {"ids": [web1.pk, db1.pk], "target_host": host("empty").pk, "parallel": 2},
                        format="json")
    assert response.status_code == 202, response.content
    parent = Job.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(f"/api/jobs/{parent.pk}/")
    assert parent.kind == "migrate_many" and parent.params == {
        "instance_ids": [web1.pk, db1.pk], "target_id": host("empty").pk, "parallel": 2, "unsafe": False}

    assert migrate_many.run(parent.pk, **parent.params) == "failed"
    parent.refresh_from_db()
    assert parent.error == "2 of 2 VMs were not moved"
    failed = {item["name"]: item for item in parent.result["failed"]}
    assert not parent.result["moved"] and parent.result["children"] == []
    assert "empty: The VM's network 'default' does not exist" in failed["web1"]["error"]
    assert "empty: The VM is not running" in failed["db1"]["error"]
    assert {item["id"] for item in failed.values()} == {web1.pk, db1.pk}
    assert Instance.objects.get(pk=web1.pk).host.name == "small"  # nothing moved


def test_the_parent_jobs_page_shows_each_vms_outcome(api, admin_client, vms, no_broker):
    web1, db1 = vms
    response = api.post(URL, {"ids": [web1.pk, db1.pk], "target_host": host("empty").pk}, format="json")
    parent = Job.objects.get(pk=response.json()["id"])
    Instance.objects.filter(pk=db1.pk).delete()
    migrate_many.run(parent.pk, **parent.params)
    page = admin_client.get(reverse("core:job_detail", args=[parent.pk])).content.decode()
    assert '<tr data-vm="web1" data-outcome="failed">' in page
    assert "empty: The VM&#x27;s network &#x27;default&#x27; does not exist" in page
    assert f'<tr data-vm="{db1.pk}" data-outcome="failed">' in page and "no such instance any more" in page


def test_it_says_a_vm_already_runs_on_the_chosen_host(api, vms, no_broker):
    web1, _db1 = vms
    response = api.post(URL, {"ids": [web1.pk], "target_host": web1.host_id}, format="json")
    parent = Job.objects.get(pk=response.json()["id"])
    assert migrate_many.run(parent.pk, **parent.params) == "failed"
    parent.refresh_from_db()
    assert parent.result["failed"][0]["error"] == "it already runs on small"


def test_it_reports_a_vm_deleted_after_the_job_was_queued(api, vms, no_broker):
    web1, db1 = vms
    parent = Job.objects.get(pk=api.post(URL, {"ids": [db1.pk]}, format="json").json()["id"])
    Instance.objects.filter(pk=db1.pk).delete()
    assert migrate_many.run(parent.pk, **parent.params) == "failed"
    parent.refresh_from_db()
    assert parent.result["failed"] == [{"id": db1.pk, "name": None, "job": None,
                                        "error": "no such instance any more"}]


def test_it_offers_migrate_for_the_selected_vms_in_the_list(admin_client, vms):
    page = admin_client.get(reverse("instances:instance_list")).content.decode()
    assert f'formaction="{reverse("instances:instance_bulk_migrate")}"' in page


def test_the_page_shows_which_selected_vm_can_go_to_which_host(admin_client, vms):
    web1, db1 = vms
    # As the list's button sends it: the bulk form's fields, no `start`.
    response = admin_client.post(reverse("instances:instance_bulk_migrate"),
                                 {"ids": [web1.pk, db1.pk], "action": "", "next": "/instances/"})
    page = response.content.decode()
    assert response.status_code == 200
    assert not Job.objects.exists()
    assert '<tr data-vm="web1">' in page and '<tr data-vm="db1">' in page
    assert 'data-host="empty" data-can="no"' in page and 'data-host="small" data-can="own"' in page
    assert "The VM&#x27;s network &#x27;default&#x27; does not exist or is not active on this host." in page
    assert f'name="ids" value="{web1.pk}"' in page and f'name="ids" value="{db1.pk}"' in page
    assert admin_client.get(reverse("instances:instance_bulk_migrate"), {"ids": [web1.pk]}).status_code == 200


def test_the_page_starts_the_parent_job_and_shows_its_page(admin_client, vms, no_broker):
    web1, _db1 = vms
    response = admin_client.post(reverse("instances:instance_bulk_migrate"),
                                 {"ids": [web1.pk], "target_host": host("networks").pk, "parallel": 1,
                                  "start": "1"})
    parent = Job.objects.get(kind="migrate_many")
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[parent.pk])
    assert parent.params["instance_ids"] == [web1.pk]


def test_the_page_refuses_bad_input_beside_its_field(admin_client, vms):
    web1, _db1 = vms
    response = admin_client.post(reverse("instances:instance_bulk_migrate"),
                                 {"ids": [web1.pk, "<script>"], "target_host": "x", "parallel": 0, "start": "1"})
    assert response.status_code == 400
    assert {"ids", "target_host", "parallel"} <= set(response.context["form"].errors)
    assert "<script>" not in response.content.decode()
    assert not Job.objects.exists()


def test_it_needs_a_login_and_csrf(client, vms, admin_user):
    web1, _db1 = vms
    url = reverse("instances:instance_bulk_migrate")
    assert client.get(url).status_code == 302
    assert client.post(URL, {"ids": [web1.pk]}, content_type="application/json").status_code in (401, 403)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url, {"ids": [web1.pk], "start": "1"}).status_code == 403
    assert not Job.objects.exists()
