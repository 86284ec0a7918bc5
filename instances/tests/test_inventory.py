"""Inventory writes: counters are stored, only visible changes push refreshes."""
import pytest

from instances import inventory
from instances.models import Instance
from instances.tests import records_of

pytestmark = pytest.mark.django_db


def test_it_stores_moving_counters_without_counting_them_as_changes(make_host):
    host = make_host("small")
    records = records_of(host)
    for record in records:
        record["cpu_time_ns"] = (record["cpu_time_ns"] or 0) + 5_000_000_000  # None on the test driver
        record["net_rx_bytes"] += 4096
    assert inventory.apply_records(host, records) == 0
    web1 = Instance.objects.get(name="web1")
    assert web1.net_rx_bytes == 4096 and web1.cpu_time_ns == next(r for r in records if r["name"] == "web1")["cpu_time_ns"]


def test_it_counts_state_changes_new_and_gone_vms(make_host):
    host = make_host("small")
    records = records_of(host)
    web1 = next(r for r in records if r["name"] == "web1")
    web1["state"] = "paused"
    records = [r for r in records if r["name"] != "db1"]
    records.append({**web1, "uuid": "44444444-4444-4444-8444-444444444444", "name": "new1"})
    assert inventory.apply_records(host, records) == 3
    assert dict(Instance.objects.filter(host=host).values_list("name", "state")) == {
        "web1": "paused", "cache1": "paused", "new1": "paused"}
