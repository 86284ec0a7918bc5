"""A VM's graph keeps the points from before its migration: its row moves to the new host (same pk), and the
series reads the frames of every host that held the VM."""
import time

import pytest

from instances.migration import move_instance
from instances.models import Instance
from metrics import store
from metrics.models import Residence

pytestmark = pytest.mark.django_db


def sample(host, taken, points):
    store.record(host, {"taken": taken, "host": {}, "vms": []},
                 {"cpu_percent": 1.0, "memory_used_kib": 100, "memory_total_kib": 1000}, points)


@pytest.fixture
def migrated(make_host):
    """web1 sampled three times on host A (cpu 1, 2, 3), moved to host B, sampled twice there (cpu 7, 8)."""
    host_a, host_b = make_host("small", host_name="host-a"), make_host("empty", host_name="host-b")
    web1 = Instance.objects.get(host=host_a, name="web1")
    db1 = Instance.objects.get(host=host_a, name="db1")
    now = int(time.time())
    for index, taken in enumerate(range(now - 40, now - 19, 10)):
        sample(host_a, taken, {web1.pk: {"cpu_percent": 1.0 + index}, db1.pk: {"cpu_percent": 50.0}})
    assert move_instance(web1.pk, host_a, host_b)
    for index, taken in enumerate(range(now - 10, now + 1, 10)):
        sample(host_a, taken, {db1.pk: {"cpu_percent": 60.0}})
        sample(host_b, taken, {web1.pk: {"cpu_percent": 7.0 + index}})
    return web1, db1, host_a, host_b, now


def test_it_returns_the_points_from_both_hosts(api, migrated):
    web1, _, host_a, host_b, now = migrated
    assert Instance.objects.get(pk=web1.pk).host == host_b
    body = api.get(f"/api/metrics/instances/{web1.pk}/").json()
    assert [(ts, cpu) for ts, cpu, *_ in body["points"]] == [
        (now - 40, 1.0), (now - 30, 2.0), (now - 20, 3.0), (now - 10, 7.0), (now, 8.0)]


def test_it_returns_only_newer_points_across_hosts(api, migrated):
    web1, _, _, _, now = migrated
    body = api.get(f"/api/metrics/instances/{web1.pk}/", {"since": now - 25}).json()
    assert [(ts, cpu) for ts, cpu, *_ in body["points"]] == [(now - 20, 3.0), (now - 10, 7.0), (now, 8.0)]


def test_it_does_not_mix_in_another_vm_of_the_old_host(api, migrated):
    _, db1, _, _, now = migrated
    body = api.get(f"/api/metrics/instances/{db1.pk}/").json()
    assert [(ts, cpu) for ts, cpu, *_ in body["points"]] == [
        (now - 40, 50.0), (now - 30, 50.0), (now - 20, 50.0), (now - 10, 60.0), (now, 60.0)]


def test_it_notes_each_host_of_a_vm_once(migrated):
    web1, db1, host_a, host_b, _ = migrated
    assert sorted(Residence.objects.filter(instance=web1).values_list("host", flat=True)) == [host_a.pk, host_b.pk]
    assert list(Residence.objects.filter(instance=db1).values_list("host", flat=True)) == [host_a.pk]


def test_it_forgets_a_deleted_vms_hosts(migrated):
    web1, *_ = migrated
    Instance.objects.filter(pk=web1.pk).delete()
    assert not Residence.objects.filter(instance_id=web1.pk).exists()
