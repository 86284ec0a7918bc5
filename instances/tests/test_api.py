"""/api/instances/: filters, search, paging, and the live detail."""
import pytest

from instances.models import Instance

pytestmark = pytest.mark.django_db
LIST = "/api/instances/"


def test_it_lists_paginated_with_filters(api, make_host):
    fleet = make_host("fleet")
    small = make_host("small")
    page = api.get(LIST, {"limit": 10}).json()
    assert page["count"] == 63 and len(page["results"]) == 10 and page["next"]
    assert {r["name"] for r in api.get(LIST, {"host": small.pk}).json()["results"]} == {"web1", "db1", "cache1"}
    assert [r["name"] for r in api.get(LIST, {"state": "paused"}).json()["results"]] == ["cache1"]
    assert api.get(LIST, {"search": "vm005"}).json()["count"] == 10
    assert api.get(LIST, {"host": fleet.pk, "state": "running"}).json()["count"] == 30
    assert api.get(LIST, {"ordering": "-memory", "limit": 1}).json()["results"][0]["memory_kib"] == 1048576


def test_it_rejects_unknown_filter_values(api, make_host):
    make_host("small")
    assert api.get(LIST, {"state": "exploded"}).status_code == 400
    assert api.get(LIST, {"host": 999}).status_code == 400


def test_it_shows_one_instance_with_live_details(api, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    body = api.get(f"{LIST}{vm.pk}/").json()
    assert body["uuid"] == "11111111-1111-4111-8111-111111111111"
    assert body["details"]["disks"][0]["target"] == "vda" and body["details_error"] == ""


def test_it_replaces_nothing_by_put(api, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    assert api.put(f"{LIST}{vm.pk}/", {"name": "x"}, format="json").status_code == 405
