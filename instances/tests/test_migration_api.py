"""/api/instances/<id>/migrate/ on libvirt's test driver: the precheck, and every refused request a clear
400 naming the field (or 404/409/503), with no job created. Real migrations: test_lab_migration.py."""
import pytest

from core.models import Job
from hosts.models import Host
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def web1(make_host):
    """web1 (running, on network 'default') on `small`; `networks` and `empty` as candidate targets."""
    small = make_host("small")
    make_host("networks", host_name="networks")
    make_host("empty", host_name="empty")
    return Instance.objects.get(host=small, name="web1")


def url(instance, suffix=""):
    return f"/api/instances/{instance.pk}/migrate/{suffix}"


def test_it_prechecks_every_other_host_with_reasons(api, web1):
    body = api.get(url(web1)).json()
    assert [c["host_name"] for c in body] == ["empty", "networks"]
    empty = body[0]
    assert not empty["can"]
    assert "The VM's network 'default' does not exist or is not active on this host." in empty["reasons"]
    assert any("A VM with the same name or UUID is already defined there: web1." == r for r in body[1]["reasons"])


def test_it_says_a_down_host_cannot_take_the_vm_without_asking_it(api, web1):
    empty = Host.objects.get(name="empty")
    Host.objects.filter(pk=empty.pk).update(state=Host.State.UNREACHABLE, last_error="Connection refused",
                                            uri="qemu+tcp://127.0.0.1:1/system")
    check = next(c for c in api.get(url(web1)).json() if c["host_name"] == "empty")
    assert check["reasons"] == ["The host is not reachable: Connection refused"]


def test_it_answers_503_when_the_vms_own_host_is_down(api, web1):
    Host.objects.filter(pk=web1.host_id).update(uri="qemu+tcp://127.0.0.1:1/system")
    response = api.get(url(web1))
    assert response.status_code == 503 and "Connection refused" in response.json()["detail"]


@pytest.mark.parametrize("body, field", [
    ({}, "target_host"),
    ({"target_host": "abc"}, "target_host"),
    ({"target_host": 999999}, "target_host"),
    ({"target_host": [1]}, "target_host"),
    ({"target_host": "TARGET", "storage": "bogus"}, "storage"),
    ({"target_host": "TARGET", "live": "perhaps"}, "live"),
    ({"target_host": "TARGET", "max_bandwidth_mib": -1}, "max_bandwidth_mib"),
    ({"target_host": "TARGET", "max_bandwidth_mib": "1; rm -rf /"}, "max_bandwidth_mib"),
    ({"target_host": "TARGET", "max_downtime_ms": 0}, "max_downtime_ms"),
    ({"target_host": "TARGET", "max_downtime_ms": 10**20}, "max_downtime_ms"),
    ({"target_host": "SOURCE"}, "target_host"),
    ({"target_host": "TARGET", "live": False, "post_copy": True}, "post_copy"),
    ({"target_host": "TARGET", "peer2peer": False, "tunnelled": True}, "tunnelled"),
    ({"target_host": "TARGET", "persistent": False}, "undefine_source"),
    ({"target_host": "TARGET"}, "target_host"),  # the precheck's reasons: no network 'default' there
], ids=lambda value: repr(value)[:50])
def test_it_refuses_bad_requests_naming_the_field(api, web1, body, field):
    ids = {"TARGET": Host.objects.get(name="empty").pk, "SOURCE": web1.host_id}
    body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    response = api.post(url(web1), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists()


def test_it_refuses_a_body_that_is_not_an_object(api, web1):
    for body in ("[1, 2]", "\"x\"", "{", "null"):
        response = api.post(url(web1), body, content_type="application/json")
        assert response.status_code == 400, body
    assert not Job.objects.exists()


def test_it_answers_404_for_a_missing_vm(api, web1):
    assert api.get("/api/instances/999999/migrate/").status_code == 404
    assert api.post("/api/instances/999999/migrate/", {}, format="json").status_code == 404


def test_it_refuses_post_copy_when_no_migration_runs(api, web1):
    response = api.post(url(web1, "post-copy/"))
    assert response.status_code == 409 and "No migration" in response.json()["detail"]


def test_it_refuses_a_second_migration_while_one_runs(api, web1):
    Job.objects.create(kind="migrate", target_kind="instance", target_id=str(web1.pk), status=Job.Status.RUNNING)
    response = api.post(url(web1), {"target_host": Host.objects.get(name="empty").pk}, format="json")
    assert response.status_code == 400 and "already running" in response.json()["target_host"][0]


def test_it_needs_a_login(client, web1):
    assert client.get(url(web1)).status_code in (401, 403)
    assert client.post(url(web1), {}).status_code in (401, 403)


@pytest.mark.parametrize("body, field", [
    ({"parallel": 0}, "parallel"), ({"parallel": 9}, "parallel"), ({"parallel": "x"}, "parallel"),
    ({"target_host": 999999}, "target_host"), ({"target_host": "SOURCE"}, "target_host"),
    ({"unsafe": "maybe"}, "unsafe"),
], ids=lambda value: repr(value)[:40])
def test_it_refuses_bad_evacuation_requests_naming_the_field(api, web1, body, field):
    body = {key: web1.host_id if value == "SOURCE" else value for key, value in body.items()}
    response = api.post(f"/api/hosts/{web1.host_id}/evacuate/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Job.objects.exists()


def test_it_refuses_to_evacuate_an_unreachable_host(api, web1):
    Host.objects.filter(pk=web1.host_id).update(state=Host.State.UNREACHABLE, last_error="Connection refused")
    response = api.post(f"/api/hosts/{web1.host_id}/evacuate/", {}, format="json")
    assert response.status_code == 400 and "Connection refused" in response.json()["host"][0]
    assert api.post("/api/hosts/999999/evacuate/", {}, format="json").status_code == 404
