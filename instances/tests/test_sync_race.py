"""The periodic sync against the event watcher: a row an event wrote after the listing began wins."""
import pytest
from django.utils import timezone

from hosts import sync
from instances import inventory, totals
from instances.choices import InstanceState
from instances.models import Instance
from instances.tests import recounted_totals, records_of

pytestmark = pytest.mark.django_db


def test_it_keeps_rows_an_event_wrote_between_the_listing_and_the_apply(make_host):
    host = make_host("small")  # web1 running, db1 shut off, cache1 paused
    # The sync starts: snapshot and listing (db1 was undefined just before; new1 just appeared).
    sync_started = timezone.now()
    existing = inventory.current_rows(host)
    listing = [r for r in records_of(host) if r["name"] != "db1"]
    web1 = next(r for r in listing if r["name"] == "web1")
    web1["cpu_time_ns"] = (web1["cpu_time_ns"] or 0) + 10**9  # the listing saw web1 running and busy
    new1 = {**web1, "uuid": "44444444-4444-4444-8444-444444444444", "name": "new1", "state": "running"}
    listing.append(new1)
    # Meanwhile the watcher applies newer events: web1 paused, db1 defined again, new1 already started.
    inventory.apply_record(host, web1["uuid"], {**web1, "state": "paused"})
    db1 = Instance.objects.get(host=host, name="db1")
    inventory.apply_record(host, str(db1.uuid), {**records_of(host)[0], "name": "db1", "state": "running"})
    inventory.apply_record(host, new1["uuid"], {**new1, "state": "paused", "vcpus": 8})

    inventory.apply_records(host, listing, existing, sync_started=sync_started)  # must not raise

    rows = {row.name: row for row in Instance.objects.filter(host=host)}
    assert set(rows) == {"web1", "db1", "cache1", "new1"}
    assert rows["web1"].state == "paused"  # not overwritten by the older listing
    assert rows["db1"].state == "running"  # not deleted
    assert rows["new1"].state == "paused" and rows["new1"].vcpus == 8  # the watcher's insert stands
    assert totals.read() == recounted_totals(host)  # the hosts' kept totals agree with the rows that stood


def test_it_still_applies_and_deletes_rows_no_event_touched(make_host):
    host = make_host("small")
    sync_started = timezone.now()
    existing = inventory.current_rows(host)
    listing = [r for r in records_of(host) if r["name"] != "db1"]
    next(r for r in listing if r["name"] == "web1")["state"] = "paused"
    inventory.apply_records(host, listing, existing, sync_started=sync_started)
    assert dict(Instance.objects.filter(host=host).values_list("name", "state")) == {
        "web1": "paused", "cache1": "paused"}


def test_it_lets_an_event_during_sync_host_win(make_host, monkeypatch):
    host = make_host("small")
    web1 = Instance.objects.get(host=host, name="web1")
    Instance.objects.filter(pk=web1.pk).update(state=InstanceState.SHUTOFF)  # stale row: the sync will rewrite web1
    real_call = sync.call

    def call_then_event(target, fn, timeout=None):
        result = real_call(target, fn, timeout=timeout)  # the listing says web1 is running
        record = next(r for r in records_of(host) if r["name"] == "web1")
        inventory.apply_record(host, str(web1.uuid), {**record, "state": "paused", "cpu_time_ns": 1})
        return result

    monkeypatch.setattr(sync, "call", call_then_event)
    assert sync.sync_host(host) == 3
    assert Instance.objects.get(pk=web1.pk).state == "paused"
