"""A host no sync has confirmed lately shows as stale, not up, while its stored state stays what the sync wrote."""
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from hosts.models import Host

pytestmark = pytest.mark.django_db


def age(host, seconds):
    Host.objects.filter(pk=host.pk).update(last_sync=timezone.now() - timedelta(seconds=seconds))


def badge(state):
    return f">{state}</span>"


def test_it_shows_a_freshly_synced_host_as_up(admin_client, api, make_host):
    host = make_host("small")
    assert badge("up") in admin_client.get("/hosts/").content.decode()
    assert badge("up") in admin_client.get(f"/hosts/{host.pk}/").content.decode()
    assert "host not synced lately" not in admin_client.get("/instances/").content.decode()
    assert api.get(f"/api/hosts/{host.pk}/").json()["stale"] is False


def test_it_shows_a_host_without_a_recent_sync_as_stale(admin_client, api, make_host):
    host = make_host("small")
    age(host, settings.HOST_STALE_AFTER + 5)

    listing = admin_client.get("/hosts/").content.decode()
    assert badge("stale") in listing and badge("up") not in listing
    assert "its state may be out of date" in listing
    detail = admin_client.get(f"/hosts/{host.pk}/").content.decode()
    assert badge("stale") in detail and "Not synced for" in detail
    dashboard = admin_client.get("/").content.decode()
    assert badge("stale") in dashboard and "0 / 1" in dashboard  # hosts up
    body = api.get(f"/api/hosts/{host.pk}/").json()
    assert body["stale"] is True and body["state"] == "up"  # what the last sync saw, unchanged
    assert api.get("/api/hosts/").json()["results"][0]["stale"] is True
    assert "host not synced lately" in admin_client.get("/instances/").content.decode()


def test_it_keeps_an_unreachable_host_unreachable_when_stale(admin_client, make_host):
    host = make_host("small")
    Host.objects.filter(pk=host.pk).update(state=Host.State.UNREACHABLE, last_error="no answer")
    age(host, settings.HOST_STALE_AFTER + 5)
    listing = admin_client.get("/hosts/").content.decode()
    assert badge("unreachable") in listing and badge("stale") not in listing

