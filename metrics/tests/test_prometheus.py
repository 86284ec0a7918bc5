"""/metrics: the fleet in Prometheus' format for a token, and nothing for anyone else."""
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import ApiToken
from instances.models import Instance
from metrics import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(make_host):
    host = make_host("small")
    web1 = Instance.objects.get(host=host, name="web1")
    store.record(host, {"taken": time.time(), "host": {}, "vms": []},
                 {"cpu_percent": 12.5, "memory_used_kib": 1024, "memory_total_kib": 4096},
                 {web1.pk: {"cpu_percent": 50.0, "memory_kib": 2048.0, "disk_read_bps": 1000.0}})
    return host, web1


def scrape(client, secret):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Token {secret}",
                      HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")


def samples(response):
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.parametrize("read_only", [False, True])
def test_it_serves_the_fleet_to_a_token(client, admin_user, fleet, read_only):
    host, web1 = fleet
    _, secret = ApiToken.issue(admin_user, "prometheus", read_only=read_only)
    response = scrape(client, secret)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response)
    vm = (("host", "small"), ("instance", "web1"), ("uuid", str(web1.uuid)))
    assert found[("virtdeck_vm_cpu_percent", vm)] == 50.0
    assert found[("virtdeck_vm_memory_bytes", vm)] == 2048 * 1024
    assert found[("virtdeck_vm_disk_read_bytes_per_second", vm)] == 1000.0
    assert ("virtdeck_vm_network_receive_bytes_per_second", vm) not in found  # unknown: left out, not 0
    assert found[("virtdeck_host_cpu_percent", (("host", "small"),))] == 12.5
    assert found[("virtdeck_host_memory_total_bytes", (("host", "small"),))] == 4096 * 1024
    assert found[("virtdeck_host_up", (("host", "small"),))] == 1
    assert found[("virtdeck_instances", (("host", "small"), ("state", "running")))] == 1
    assert found[("virtdeck_instances", (("host", "small"), ("state", "shutoff")))] == 1


def test_it_leaves_out_hosts_not_sampled_lately(client, admin_user, fleet):
    _, secret = ApiToken.issue(admin_user, "prometheus")
    store.Frame.objects.update(ts=int(time.time()) - 3600)
    assert not any(name.startswith("virtdeck_vm_") for name, _ in samples(scrape(client, secret)))


@pytest.mark.parametrize("authorization", [None, "Token vd_0123456789ab_nottherightsecret", "Token garbage",
                                           "Bearer abc", "Basic YWRtaW46cGFzc3dvcmQ="])
def test_it_refuses_callers_without_a_valid_token(client, fleet, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code in (401, 403) and b"virtdeck_" not in response.content


def test_it_refuses_a_browser_session_without_a_token(admin_client, fleet):
    """A logged-in page cannot be turned into a scraper: /metrics takes tokens only."""
    response = admin_client.get("/metrics")
    assert response.status_code in (401, 403) and b"virtdeck_" not in response.content


def test_it_refuses_an_expired_token(client, admin_user, fleet):
    from datetime import timedelta

    from django.utils import timezone
    _, secret = ApiToken.issue(admin_user, "old", expires=timezone.now() - timedelta(seconds=1))
    assert scrape(client, secret).status_code == 401


def test_it_refuses_writes(client, admin_user, fleet):
    _, secret = ApiToken.issue(admin_user, "prometheus")
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Token {secret}").status_code in (403, 405)
