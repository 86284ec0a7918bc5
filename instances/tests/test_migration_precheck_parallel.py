"""The migration precheck asks every other host at once (instances/migration.py check_targets): hosts on
libvirt's test driver plus hosts that accept TCP and never answer, like a hung libvirtd."""
import threading

import pytest

from hosts.connection import pool
from hosts.models import Host
from instances import migration

from .test_migration_api import web1  # noqa: F401 - a fixture: web1 on small, hosts networks and empty

pytestmark = pytest.mark.django_db


@pytest.fixture
def hung_hosts(silent_port, monkeypatch):
    """Two saved hosts that look up but whose libvirtd never answers; opens give up after 1 s."""
    monkeypatch.setattr(pool(), "connect_timeout", 1.0)
    uri = f"qemu+tcp://127.0.0.1:{silent_port}/system"
    return [Host.objects.create(name=name, uri=uri, state=Host.State.UP) for name in ("hung1", "hung2")]


def name_uri(name):
    return Host.objects.get(name=name).uri


@pytest.fixture
def in_flight(monkeypatch):
    """How many host checks ran at the same time, at most (a spy around the real check)."""
    real, lock, seen = migration._check_target, threading.Lock(), {"now": 0, "max": 0}

    def counted(vm, target):
        with lock:
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            return real(vm, target)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(migration, "_check_target", counted)
    return seen


def test_it_asks_the_hosts_at_once_and_a_hung_host_only_reports_its_timeout(api, web1, hung_hosts, in_flight):
    response = api.get(f"/api/instances/{web1.pk}/migrate/")
    assert response.status_code == 200
    body = {check["host_name"]: check for check in response.json()}
    assert sorted(body) == ["empty", "hung1", "hung2", "networks"]
    for name in ("hung1", "hung2"):
        assert not body[name]["can"]
        assert body[name]["reasons"] == [f"The host could not be asked: no answer from {name_uri(name)} within 1 s"]
    # The reachable hosts got their real verdicts all the same.
    assert "The VM's network 'default' does not exist or is not active on this host." in body["empty"]["reasons"]
    assert "A VM with the same name or UUID is already defined there: web1." in body["networks"]["reasons"]
    # Both hung hosts were waited for together: sequential checks would never overlap.
    assert in_flight["max"] >= 2


def test_it_keeps_the_order_given_and_one_host_needs_no_thread(web1, in_flight):
    targets = list(Host.objects.exclude(pk=web1.host_id).order_by("-name"))
    assert [result["host"].name for result in migration.precheck(web1, targets)] == ["networks", "empty"]
    assert [result["host"].name for result in migration.precheck(web1, targets[:1])] == ["networks"]


def test_it_checks_in_the_requests_language_from_its_threads(web1, hung_hosts, monkeypatch):
    from django.utils import translation

    real, languages = migration._check_target, []

    def noting_language(vm, target):
        languages.append(translation.get_language())
        return real(vm, target)

    monkeypatch.setattr(migration, "_check_target", noting_language)
    with translation.override("de"):  # a new thread would start with the default, en-us
        results = migration.precheck(web1, list(Host.objects.exclude(pk=web1.host_id)))
    assert len(results) == 4 and languages == ["de"] * 4
