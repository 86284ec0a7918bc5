"""Bulk actions: POST /api/instances/bulk/ and the list's form, on two test-driver hosts; a result per VM."""
import threading

import pytest
from django.test import Client
from django.urls import reverse

from hosts.connection import call
from instances import bulk
from instances.models import Instance

pytestmark = pytest.mark.django_db
BULK = "/api/instances/bulk/"
RUNNING, SHUTOFF = 1, 5


def libvirt_state(vm):
    uuid = str(vm.uuid)
    return call(vm.host, lambda conn: conn.lookupByUUIDString(uuid).state()[0])


@pytest.fixture
def hosts(make_host):
    return make_host("small", host_name="alpha"), make_host("small", host_name="beta")


def vm(host, name):
    return Instance.objects.select_related("host").get(host=host, name=name)


def test_it_answers_a_result_per_id_in_order_and_one_failure_stops_nothing(api, hosts):
    alpha, beta = hosts
    ids = [vm(alpha, "web1").pk, vm(alpha, "db1").pk, 987654, vm(beta, "web1").pk, vm(beta, "cache1").pk]
    response = api.post(BULK, {"action": "destroy", "ids": ids}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["action"], body["succeeded"], body["failed"]) == ("destroy", 3, 2)
    assert [(r["id"], r["ok"], r.get("status"), r.get("state")) for r in body["results"]] == [
        (ids[0], True, None, "shutoff"), (ids[1], False, 409, None), (ids[2], False, 404, None),
        (ids[3], True, None, "shutoff"), (ids[4], True, None, "shutoff")]
    assert body["results"][1]["detail"] == "Force off is not possible for db1 while it is shut off."
    for pk in (ids[0], ids[3], ids[4]):
        assert libvirt_state(Instance.objects.get(pk=pk)) == SHUTOFF
        assert Instance.objects.get(pk=pk).state == "shutoff"  # rows re-read in the same request


def test_it_goes_on_after_a_vm_the_host_refuses(api, hosts):
    alpha, _ = hosts
    stale = vm(alpha, "db1")
    Instance.objects.filter(pk=stale.pk).update(state="running")  # the row lags: libvirt will refuse
    ids = [stale.pk, vm(alpha, "web1").pk]
    results = api.post(BULK, {"action": "suspend", "ids": ids}, format="json").json()["results"]
    assert results[0]["ok"] is False and results[0]["status"] == 409
    assert results[0]["detail"] == "Cannot suspend a VM that is shut off."
    assert results[1] == {"id": ids[1], "name": "web1", "ok": True, "state": "paused"}


def test_it_runs_each_hosts_vms_in_sequence_in_one_call_off_the_request_thread(api, hosts, monkeypatch):
    seen = []
    real_each = bulk.each

    def spy(conn, keys, fn):
        seen.append((list(keys), threading.get_ident()))
        return real_each(conn, keys, fn)

    monkeypatch.setattr(bulk, "each", spy)
    ids = list(Instance.objects.filter(name__in=["web1", "cache1"]).order_by("host__name", "name")
               .values_list("pk", flat=True))
    assert api.post(BULK, {"action": "destroy", "ids": ids}, format="json").json()["succeeded"] == 4
    in_order = [str(Instance.objects.filter(name=name).first().uuid) for name in ("cache1", "web1")]
    assert [keys for keys, _ in seen] == [in_order, in_order]  # one pool call per host, its VMs in order...
    # ...in the executor's threads (one per host at most; a thread that finished one host may take the next)
    assert threading.get_ident() not in {ident for _, ident in seen}


@pytest.mark.parametrize("body,field", [
    ({"action": "explode", "ids": [1]}, "action"),
    ({"action": "delete", "ids": [1]}, "action"),  # one at a time, with the name typed
    ({"ids": [1]}, "action"),
    ({"action": "start"}, "ids"),
    ({"action": "start", "ids": []}, "ids"),
    ({"action": "start", "ids": "1,2"}, "ids"),
    ({"action": "start", "ids": ["x"]}, "ids"),
    ({"action": "start", "ids": [-1]}, "ids"),
    ({"action": "start", "ids": [2**64]}, "ids"),
    ({"action": "start", "ids": [1, 1]}, "ids"),
    ({"action": "start", "ids": list(range(1, bulk.MAX_IDS + 2))}, "ids"),
    ({"action": "start", "ids": [1], "force": True}, "force"),
])
def test_it_refuses_bad_input_naming_the_field_and_does_nothing(api, hosts, body, field):
    before = list(Instance.objects.order_by("pk").values_list("state", flat=True))
    response = api.post(BULK, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert list(Instance.objects.order_by("pk").values_list("state", flat=True)) == before


def test_it_refuses_anonymous_callers_and_sessions_without_csrf(client, admin_user, hosts):
    ids = list(Instance.objects.values_list("pk", flat=True))
    assert client.post(BULK, {"action": "destroy", "ids": ids}, content_type="application/json").status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(BULK, {"action": "destroy", "ids": ids}, content_type="application/json").status_code == 403
    assert Instance.objects.filter(state="running").count() == 2


def test_it_acts_from_the_list_page_and_says_how_each_went(admin_client, hosts):
    alpha, beta = hosts
    listing = admin_client.get(reverse("instances:instance_list")).content.decode()
    assert 'id="instance-bulk"' in listing and listing.count('name="ids"') == 6
    ids = [vm(alpha, "web1").pk, vm(alpha, "db1").pk, vm(beta, "web1").pk]
    response = admin_client.post(reverse("instances:instance_bulk"),
                                 {"action": "shutdown", "ids": ids, "next": "/instances/?state=running"})
    assert response.status_code == 302 and response["Location"] == "/instances/?state=running"
    messages = [(m.level_tag, str(m)) for m in response.wsgi_request._messages]
    assert messages == [("success", "Shut down: done for web1, web1."),
                        ("error", "Shut down of db1 failed: Shut down is not possible for db1 while it is shut off.")]
    assert libvirt_state(vm(alpha, "web1")) == SHUTOFF and libvirt_state(vm(beta, "web1")) == SHUTOFF


@pytest.mark.parametrize("data", [{"action": "start"}, {"action": "nope", "ids": ["1"]},
                                  {"action": "start", "ids": ["1x"]}, {"action": "start", "ids": ["-4"]}])
def test_it_does_nothing_on_a_bad_bulk_form(admin_client, hosts, data):
    before = list(Instance.objects.order_by("pk").values_list("state", flat=True))
    response = admin_client.post(reverse("instances:instance_bulk"), data, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert list(Instance.objects.order_by("pk").values_list("state", flat=True)) == before


def test_it_takes_the_bulk_form_by_post_with_csrf_only(admin_user, admin_client, hosts):
    url = reverse("instances:instance_bulk")
    assert admin_client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    ids = list(Instance.objects.values_list("pk", flat=True))
    assert strict.post(url, {"action": "destroy", "ids": ids}).status_code == 403
    assert Instance.objects.filter(state="running").count() == 2


@pytest.mark.django_db(transaction=True)
async def test_it_tells_open_pages_about_every_vm_once_the_rows_are_written(admin_user, make_host):
    from asgiref.sync import sync_to_async
    from rest_framework.test import APIClient

    from core.testing.websockets import live_page

    await sync_to_async(make_host)("small")
    ids = await sync_to_async(lambda: list(Instance.objects.filter(name__in=["web1", "cache1"])
                                           .order_by("name").values_list("pk", flat=True)))()
    communicator = await live_page(admin_user)
    api = APIClient()
    api.force_authenticate(admin_user)
    response = await sync_to_async(api.post)(BULK, {"action": "destroy", "ids": ids}, format="json")
    assert response.json()["succeeded"] == 2
    events = [await communicator.receive_json_from(timeout=5) for _ in ids]
    assert sorted((event["kind"], event["data"]["id"], event["data"]["state"]) for event in events) == [
        ("instance", pk, "shutoff") for pk in sorted(ids)]
    await communicator.disconnect()


def test_it_goes_back_to_a_same_site_page_only(admin_client, hosts):
    ids = list(Instance.objects.filter(name="web1").values_list("pk", flat=True))
    response = admin_client.post(reverse("instances:instance_bulk"),
                                 {"action": "suspend", "ids": ids, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("instances:instance_list")
