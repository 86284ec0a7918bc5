"""The watcher on libvirt's test driver: subscriptions, bad hosts, events to rows."""
import threading

import pytest

from core import health
from core.testing import eventually
from hosts.models import Host
from instances.models import Instance

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_watches_every_host_even_when_one_is_broken(watcher, make_host):
    good = make_host("small")
    broken = make_host("empty")
    Host.objects.filter(pk=broken.pk).update(uri="qemu+ssh://h/system?command=/bin/sh")  # refused by the allowlist now
    watcher.rescan()
    assert set(watcher.subscriptions) == {good.pk}


def test_it_turns_an_event_into_a_row_update(watcher, make_host):
    host = make_host("small")
    watcher.rescan()
    subscription = watcher.subscriptions[host.pk]
    # Act on the subscription's own connection: a node fixture's state is per connection.
    subscription.conn.lookupByName("web1").destroy()
    kind, host_id, uuid = eventually(lambda: not watcher.events.empty() and watcher.events.get(), timeout=5,
                                     message="lifecycle event queued")
    assert (kind, host_id) == ("domain", host.pk)
    # The pool's connection is another private copy of the node: read the event's domain from there.
    assert uuid == "11111111-1111-4111-8111-111111111111"


def test_it_queues_network_events_too(watcher, make_host):
    host = make_host("networks")
    watcher.rescan()
    watcher.subscriptions[host.pk].conn.networkLookupByName("backend").destroy()
    event = eventually(lambda: not watcher.events.empty() and watcher.events.get(), timeout=5,
                       message="network event queued")
    assert event == ("network", host.pk, "backend")


def test_it_drops_the_subscription_of_a_removed_host(watcher, make_host):
    host = make_host("small")
    watcher.rescan()
    Host.objects.filter(pk=host.pk).delete()
    watcher.rescan()
    assert watcher.subscriptions == {}
    assert not Instance.objects.exists()


def test_it_beats_while_it_runs(watcher):
    health.client().delete(health.KEY.format("watcher"))
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        eventually(lambda: health.status().is_up("watcher"), timeout=10, message="watcher heartbeat")
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
