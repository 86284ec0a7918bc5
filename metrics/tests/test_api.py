"""/api/metrics/: a host's and a VM's series over a graph range, newer points only with ?since=."""
import time

import pytest

from instances.models import Instance
from metrics import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def sampled(make_host):
    """Host "small" with three raw frames of its VM web1, 10 s apart, ending now."""
    host = make_host("small")
    web1 = Instance.objects.get(host=host, name="web1")
    now = int(time.time())
    for index, taken in enumerate(range(now - 20, now + 1, 10)):
        store.record(host, {"taken": taken, "host": {}, "vms": []},
                     {"cpu_percent": 10.0 * index, "memory_used_kib": 100, "memory_total_kib": 1000},
                     {web1.pk: {"cpu_percent": 1.0 + index, "memory_kib": 2048.0, "net_rx_bps": 5.0}})
    return host, web1, now


def test_it_returns_a_vms_series(api, sampled):
    host, web1, now = sampled
    body = api.get(f"/api/metrics/instances/{web1.pk}/").json()
    assert body["range"] == "hour" and body["step"] == 10
    assert body["fields"] == ["ts", "cpu_percent", "memory_kib", "disk_read_bps", "disk_write_bps", "net_rx_bps",
                              "net_tx_bps"]
    assert body["points"] == [[now - 20 + 10 * i, 1.0 + i, 2048.0, None, None, 5.0, None] for i in range(3)]


def test_it_returns_a_hosts_series_and_only_newer_points(api, sampled):
    host, _, now = sampled
    body = api.get(f"/api/metrics/hosts/{host.pk}/", {"since": now - 15}).json()
    assert body["fields"] == ["ts", "cpu_percent", "memory_used_kib", "memory_total_kib"]
    assert body["points"] == [[now - 10, 10.0, 100, 1000], [now, 20.0, 100, 1000]]


@pytest.mark.parametrize("range_name", ["day", "week", "quarter"])
def test_it_reads_rollups_for_longer_ranges(api, sampled, range_name):
    host, web1, now = sampled
    body = api.get(f"/api/metrics/instances/{web1.pk}/", {"range": range_name}).json()
    step = store.RANGES[range_name][0]
    closed = 0 if (now - 20) // step == now // step else 1  # the three samples may straddle a bucket's end
    assert body["step"] == step and len(body["points"]) == closed


@pytest.mark.parametrize(("query", "field"), [
    ({"range": "year"}, "range"), ({"range": ""}, "range"), ({"since": "yesterday"}, "since"),
    ({"since": "-5"}, "since"), ({"since": "1e9"}, "since"), ({"since": "9" * 40}, "since"),
    ({"since": "١٢٣"}, "since"),  # Arabic-Indic digits
])
def test_it_refuses_bad_parameters_naming_the_field(api, sampled, query, field):
    _, web1, _ = sampled
    response = api.get(f"/api/metrics/instances/{web1.pk}/", query)
    assert response.status_code == 400 and field in response.json()


def test_it_answers_404_for_an_unknown_object(api, db):
    assert api.get("/api/metrics/instances/999999/").status_code == 404
    assert api.get("/api/metrics/hosts/999999/").status_code == 404


def test_it_refuses_anonymous_callers(client, sampled):
    host, web1, _ = sampled
    assert client.get(f"/api/metrics/hosts/{host.pk}/").status_code == 401
    assert client.get(f"/api/metrics/instances/{web1.pk}/").status_code == 401


def test_it_refuses_writes(api, sampled):
    _, web1, _ = sampled
    assert api.post(f"/api/metrics/instances/{web1.pk}/", {}).status_code == 405
