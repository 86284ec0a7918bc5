"""POST /api/instances/{id}/console/: a single-use ticket for one user, VM and kind."""
import pytest
from rest_framework.test import APIClient

from console import tickets
from console.refusals import Refusal, Refused
from instances.models import Instance

pytestmark = pytest.mark.django_db


def url(instance):
    return f"/api/instances/{instance.pk}/console/"


def test_it_issues_a_ticket_bound_to_the_user_the_vm_and_the_kind(api, admin_user, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    response = api.post(url(vm), {"kind": "vnc"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ticket", "ws_path", "expires_in"}
    assert body["ws_path"] == f"/ws/instances/{vm.pk}/vnc/" and 0 < body["expires_in"] <= 30
    assert len(body["ticket"]) >= 40
    assert tickets.redeem(body["ticket"]) == tickets.Ticket(user_id=admin_user.pk, instance_id=vm.pk, kind="vnc")
    with pytest.raises(Refused) as replay:
        tickets.redeem(body["ticket"])
    assert replay.value.refusal == Refusal.USED


def test_it_gives_a_new_ticket_every_time(api, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    seen = {api.post(url(vm), {"kind": "serial"}, format="json").json()["ticket"] for _ in range(5)}
    assert len(seen) == 5


def test_it_keeps_only_a_digest_of_the_ticket_in_redis(api, make_host):
    from core import health

    make_host("small")
    vm = Instance.objects.get(name="web1")
    ticket = api.post(url(vm), {"kind": "vnc"}, format="json").json()["ticket"]
    keys = [k.decode() for k in health.client().scan_iter("console:ticket:*")]
    assert keys and not any(ticket in key for key in keys)
    assert not any(ticket.encode() in health.client().get(key) for key in keys)


@pytest.mark.parametrize("body", [{}, {"kind": "spice"}, {"kind": ""}, {"kind": ["vnc"]}, {"kind": None},
                                  {"kind": "vnc" * 1000}])
def test_it_refuses_a_bad_kind_naming_the_field(api, make_host, body):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    response = api.post(url(vm), body, format="json")
    assert response.status_code == 400 and "kind" in response.json()


def test_it_answers_404_for_an_unknown_vm(api, make_host):
    make_host("small")
    assert api.post("/api/instances/999999/console/", {"kind": "vnc"}, format="json").status_code == 404


def test_it_refuses_anonymous_callers_and_get(make_host, api):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    assert APIClient().post(url(vm), {"kind": "vnc"}, format="json").status_code in (401, 403)
    assert api.get(url(vm)).status_code == 405


def test_it_needs_csrf_for_a_session_caller(admin_user, make_host):
    from django.test import Client

    make_host("small")
    vm = Instance.objects.get(name="web1")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url(vm), {"kind": "vnc"}, content_type="application/json").status_code == 403


def test_it_tells_an_expired_ticket_from_an_unknown_one(admin_user, make_host, monkeypatch):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    ticket, lifetime = tickets.issue(admin_user, vm, "vnc")
    now = tickets.time.time()
    monkeypatch.setattr(tickets.time, "time", lambda: now + lifetime + 1)
    with pytest.raises(Refused) as expired:
        tickets.redeem(ticket)
    assert expired.value.refusal == Refusal.EXPIRED
    with pytest.raises(Refused) as unknown:
        tickets.redeem("x" * 43)
    assert unknown.value.refusal == Refusal.UNKNOWN_TICKET


def test_it_answers_503_when_redis_does_not_answer(api, make_host, settings):
    from core import health

    make_host("small")
    vm = Instance.objects.get(name="web1")
    settings.REDIS_URL = "unix:///nonexistent/redis.sock"
    health._clients.clear()
    try:
        response = api.post(url(vm), {"kind": "vnc"}, format="json")
        with pytest.raises(Refused) as refused:
            tickets.redeem("x" * 43)
    finally:
        health._clients.clear()
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
    assert refused.value.refusal == Refusal.UNREACHABLE
