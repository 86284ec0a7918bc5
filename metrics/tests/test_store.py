"""The store: frames written, rolled up at sample time, kept bounded by retention; series read back."""
import pytest

from metrics import frames, store
from metrics.models import Frame

pytestmark = pytest.mark.django_db
DAY = 86400
START = 1_700_000_000 // 10800 * 10800  # a bucket start of every level


def sample(taken):
    return {"taken": taken, "host": {"memory_total_kib": 1000, "memory_free_kib": 0}, "vms": []}


def write(host, taken, cpu, vm_cpu=None):
    points = {} if vm_cpu is None else {42: {"cpu_percent": vm_cpu, "memory_kib": 512.0}}
    store.record(host, sample(taken), {"cpu_percent": cpu, "memory_used_kib": 600, "memory_total_kib": 1000},
                 points)


def counts(host):
    return {step: Frame.objects.filter(host=host, step=step).count() for step in (store.RAW, 300, 1800, 10800)}


def test_it_rolls_a_closed_bucket_into_its_average(make_host):
    host = make_host("small")
    for minute, cpu in enumerate([10, 20, 30, 40, 50]):
        write(host, START + 60 * minute, cpu, vm_cpu=cpu * 2)
    assert counts(host)[300] == 0  # the bucket is still open
    write(host, START + 300, 0, vm_cpu=0)  # the first sample of the next bucket closes it
    rollup = Frame.objects.get(host=host, step=300)
    assert rollup.ts == START and rollup.cpu_percent == 30 and rollup.memory_used_kib == 600
    assert frames.find(bytes(rollup.vms), 42)["cpu_percent"] == 60


def test_it_keeps_a_simulated_week_bounded(make_host):
    """Eight days sampled every 5 minutes (the raw level too: a slow test otherwise): each level holds its span
    and no more."""
    host = make_host("small")
    every = 300
    for taken in range(START, START + 8 * DAY + 1, every):
        write(host, taken, 5.0, vm_cpu=1.0)
    kept = counts(host)
    assert kept[store.RAW] <= store.RAW_KEEP // every + 1
    assert 280 <= kept[300] <= DAY // 300 + 1
    assert 330 <= kept[1800] <= 7 * DAY // 1800 + 1
    assert kept[10800] == 8 * DAY // 10800  # a quarter is not reached: nothing dropped yet
    now = START + 8 * DAY
    week = store.vm_series(host.pk, 42, "week", now=now)
    assert len(week) == kept[1800] and all(values["cpu_percent"] == 1.0 for _, values in week)
    assert [row[1] for row in store.host_series(host.pk, "day", now=now)] == [5.0] * kept[300]


def test_it_reads_only_points_newer_than_since(make_host):
    host = make_host("small")
    for taken in range(START, START + 100, 10):
        write(host, taken, 1.0, vm_cpu=2.0)
    now = START + 100
    series = store.vm_series(host.pk, 42, "hour", since=START + 50, now=now)
    assert [ts for ts, _ in series] == [START + 60, START + 70, START + 80, START + 90]
    assert store.vm_series(host.pk, 999, "hour", now=now) == []  # a VM the frames do not hold
    assert len(store.host_series(host.pk, "hour", now=now)) == 10


def test_it_keeps_the_first_of_two_samples_in_one_second(make_host):
    host = make_host("small")
    write(host, START + 0.1, 1.0)
    write(host, START + 0.6, 2.0)
    assert list(Frame.objects.filter(host=host).values_list("cpu_percent", flat=True)) == [1.0]
