"""Pool events reach the pool's rows through the host watcher (libvirt's test driver; the lab: test_lab_events)."""
import pytest

from core.testing import eventually
from hosts.connection import call
from storage.models import StoragePool

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_queues_pool_lifecycle_and_refresh_events(watcher, make_host):
    host = make_host("storage")
    watcher.rescan()
    conn = watcher.subscriptions[host.pk].conn  # a node fixture's state is per connection: act on this one
    conn.storagePoolLookupByName("iso").refresh(0)
    conn.storagePoolLookupByName("images").destroy()
    seen = []
    eventually(lambda: (seen.append(watcher.events.get()) if not watcher.events.empty() else None) or len(seen) >= 2,
               timeout=5, message="two pool events queued")
    assert seen == [("pool", host.pk, "iso"), ("pool", host.pk, "images")]


def test_it_rereads_the_pool_of_an_event(watcher, make_host):
    host = make_host("storage")
    call(host, lambda conn: conn.storagePoolLookupByName("images").destroy())  # the pool connection's copy
    watcher.handle("pool", host.pk, "images")
    images = StoragePool.objects.get(host=host, name="images")
    assert images.state == "inactive" and not images.volumes.exists()
    call(host, lambda conn: conn.storagePoolLookupByName("iso").destroy() or
         conn.storagePoolLookupByName("iso").undefine())
    watcher.handle("pool", host.pk, "iso")
    assert not StoragePool.objects.filter(host=host, name="iso").exists()
