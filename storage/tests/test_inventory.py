"""Pools on every sync, volumes only when a pool changes: against libvirt's test driver (storage.xml)."""
from datetime import timedelta

import collections

import pytest
from django.utils import timezone

from hosts import sync
from hosts.connection import call as real_call
from storage import inventory
from storage.models import StoragePool, Volume
from virt import volumes as virt_volumes
from virt.tests.counting import Counting

pytestmark = pytest.mark.django_db



def test_it_stores_every_pool_and_the_volumes_of_running_ones(storage_host):
    pools = {pool.name: pool for pool in StoragePool.objects.filter(host=storage_host)}
    assert set(pools) == {"images", "iso", "vg0", "nfs-share"}
    images = pools["images"]
    assert (images.type, images.state, images.target_path) == ("dir", "running", "/var/lib/virtdeck-test/images")
    assert images.capacity > 0 and images.volumes_synced_at is not None
    assert pools["vg0"].source == "/dev/sdb" and pools["nfs-share"].source == "nas.example.org:/export/vms"
    volumes = {v.name: v for v in Volume.objects.filter(pool=images)}
    assert set(volumes) == {"base.qcow2", "web1.qcow2", "thin.raw", "thick.raw"}
    assert volumes["web1.qcow2"].backing_path == "/var/lib/virtdeck-test/images/base.qcow2"
    assert volumes["thin.raw"].is_thin and not volumes["thick.raw"].is_thin
    assert volumes["thick.raw"].allocation == volumes["thick.raw"].capacity == 2 * 2**30


def test_it_does_not_reread_volumes_on_a_steady_sync(storage_host, monkeypatch):
    reads = []
    real = virt_volumes.collect_volumes
    monkeypatch.setattr(virt_volumes, "collect_volumes", lambda conn, name: reads.append(name) or real(conn, name))
    sync.sync_host(storage_host)
    sync.sync_host(storage_host)
    assert reads == []


def test_it_rereads_volumes_once_they_are_older_than_the_max_age(storage_host, settings, monkeypatch):
    reads = []
    real = virt_volumes.collect_volumes
    monkeypatch.setattr(virt_volumes, "collect_volumes", lambda conn, name: reads.append(name) or real(conn, name))
    old = timezone.now() - timedelta(seconds=settings.STORAGE_VOLUMES_MAX_AGE + 1)
    StoragePool.objects.filter(host=storage_host, name="iso").update(volumes_synced_at=old)
    sync.sync_host(storage_host)
    assert reads == ["iso"]


def _node_with_volumes(directory, count):
    """Node XML: two dir pools, one holding `count` volumes."""
    volumes = "".join(f"<volume><name>v{i}.img</name><capacity>1048576</capacity></volume>" for i in range(count))
    path = directory / f"volumes-{count}.xml"
    path.write_text(f"<node><pool type='dir'><name>big</name><target><path>/srv/big</path></target>{volumes}</pool>"
                    "<pool type='dir'><name>small</name><target><path>/srv/small</path></target></pool></node>")
    return f"test://{path}"


def steady_sync_rpcs(host, monkeypatch):
    """RPCs of one storage sync once everything is read (through virt.tests.counting, on real libvirt)."""
    counter = collections.Counter()
    monkeypatch.setattr(inventory, "call", lambda h, fn: real_call(h, lambda conn: fn(Counting(conn, counter))))
    inventory.sync_host_storage(host)
    monkeypatch.undo()
    return sum(counter.values())


def test_it_keeps_the_rpcs_of_a_steady_sync_equal_at_10_and_500_volumes(make_host, node_dir, monkeypatch):
    counts = {}
    for count in (10, 500):
        host = make_host(host_name=f"n{count}", uri=_node_with_volumes(node_dir, count))
        assert Volume.objects.filter(pool__host=host).count() == count  # read once, when the pools were new
        counts[count] = steady_sync_rpcs(host, monkeypatch)
    assert counts[10] == counts[500] == 3 + 2 * 2, counts


def test_it_drops_the_volumes_of_a_stopped_pool_and_rereads_them_when_it_starts(storage_host, images):
    from storage import services

    services.stop_pool(images)
    images.refresh_from_db()
    assert images.state == "inactive" and images.volumes_synced_at is None and not images.volumes.exists()
    services.start_pool(images)
    images.refresh_from_db()
    assert images.state == "running" and images.volumes.count() == 4


def test_it_removes_rows_of_pools_gone_from_the_host(storage_host, images):
    from hosts.connection import call

    call(storage_host, lambda conn: (conn.storagePoolLookupByName("iso").destroy(),
                                     conn.storagePoolLookupByName("iso").undefine()))
    inventory.sync_host_storage(storage_host)
    assert not StoragePool.objects.filter(host=storage_host, name="iso").exists()
    assert StoragePool.objects.filter(host=storage_host, name="images").exists()


def test_it_says_when_volumes_are_due():
    now = timezone.now()
    pool = StoragePool(state="running", volumes_synced_at=now)
    assert not inventory.volumes_due(pool, "running", now)
    assert inventory.volumes_due(pool, "inactive", now)  # just started
    assert inventory.volumes_due(StoragePool(state="running"), "running", now)  # never read
    assert not inventory.volumes_due(StoragePool(state="inactive"), None, now)


def test_it_tells_open_pages_only_of_changes_people_see(storage_host, images, monkeypatch):
    published = []
    monkeypatch.setattr(inventory, "publish", lambda kind, **data: published.append(kind))
    StoragePool.objects.filter(pk=images.pk).update(allocation=1)  # bytes moved: the next sync rewrites them
    inventory.sync_host_storage(storage_host)
    assert published == [] and StoragePool.objects.get(pk=images.pk).allocation > 1
    StoragePool.objects.filter(pk=images.pk).update(state="inactive")
    inventory.sync_host_storage(storage_host)
    assert "storage" in published


def test_it_keeps_a_row_an_event_wrote_during_the_listing(storage_host, images, monkeypatch):
    """The watcher stores a stopped pool while a sync's older listing (pool running) is on its way."""
    real = inventory.call

    def listing_then_event(host, fn):
        records = real(host, fn)
        StoragePool.objects.filter(pk=images.pk).update(state="inactive", updated_at=timezone.now())
        return records

    monkeypatch.setattr(inventory, "call", listing_then_event)
    inventory.sync_host_storage(storage_host)
    assert StoragePool.objects.get(pk=images.pk).state == "inactive"
    monkeypatch.undo()
    inventory.sync_host_storage(storage_host)  # the next listing is newer: it wins
    assert StoragePool.objects.get(pk=images.pk).state == "running"
