"""Watchers share the hosts (hosts/leases.py): disjoint shares, and a stopped watcher's hosts taken over.

Who holds which lease is read from Redis directly (`holders`, one MGET), not from the watchers.
"""
import os
import signal
import sys
from collections import Counter

import pytest

from core import health
from core.testing import AppProcess, eventually, redis_cleared
from hosts.leases import LEASE, MEMBERS, PREFIX, HostLeases, holders, rendezvous_owner
from hosts.watcher import Watcher

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 3.0  # short, so that a crashed watcher's hosts move within the test


@pytest.fixture(autouse=True)
def no_leases():
    """No membership or lease left from another test (host ids repeat from one test database to the next)."""
    with redis_cleared(PREFIX):
        yield


@pytest.fixture
def hosts(make_host):
    return [make_host("small", host_name=f"shard-{i}") for i in range(6)]


@pytest.fixture
def watchers():
    made = []

    def make(owner):
        watcher = Watcher(leases=HostLeases(owner=owner, ttl=LEASE_SECONDS))
        made.append(watcher)
        return watcher

    yield make
    for watcher in made:
        for subscription in watcher.subscriptions.values():
            subscription.close()


def watched(*watchers):
    """Host id -> how many of `watchers` act on its events: subscribed, and its lease surely still theirs (past
    that, Watcher.handle ignores the host's events until the next rescan lets go of it)."""
    return Counter(host_id for watcher in watchers for host_id in watcher.subscriptions
                   if watcher.leases.still_held(host_id))


def rescan_all(*watchers):
    """One round of each; no host may ever be watched twice, even mid-handover."""
    for watcher in watchers:
        watcher.rescan()
        assert max(watched(*watchers).values(), default=0) == 1, watched(*watchers)


def test_it_picks_one_owner_per_host_whatever_the_order_of_members():
    members = ["a:1:x", "b:2:y", "c:3:z"]
    owners = [rendezvous_owner(host_id, members) for host_id in range(300)]
    assert owners == [rendezvous_owner(host_id, list(reversed(members))) for host_id in range(300)]
    assert set(owners) == set(members)  # 300 hosts: each of three watchers gets a share
    survivors = [member for member in members if member != "b:2:y"]
    for host_id, owner in enumerate(owners):  # when b leaves, only b's hosts move
        if owner != "b:2:y":
            assert rendezvous_owner(host_id, survivors) == owner


def two_owners(hosts):
    """Two watcher ids between which rendezvous hashing splits these hosts, each getting some."""
    for suffix in range(100):
        pair = [f"watcher-a{suffix}", f"watcher-b{suffix}"]
        if len({rendezvous_owner(host.pk, pair) for host in hosts}) == 2:
            return pair
    raise AssertionError("no split found")


def settle(first, second, hosts):
    """Rescan both until each watches exactly its rendezvous share; that share."""
    pair = [first.leases.owner, second.leases.owner]
    expected = {host.pk: rendezvous_owner(host.pk, pair) for host in hosts}

    def shares():
        rescan_all(first, second)
        return {**{pk: first.leases.owner for pk in first.subscriptions},
                **{pk: second.leases.owner for pk in second.subscriptions}}

    eventually(lambda: shares() == expected, timeout=30, interval=0.1, message="hosts shared as rendezvous says")
    return expected


def test_it_shares_the_hosts_between_two_watchers_without_overlap(hosts, watchers):
    a, b = two_owners(hosts)
    first, second = watchers(a), watchers(b)
    expected = settle(first, second, hosts)
    assert set(expected.values()) == {a, b}
    assert holders(expected) == expected  # the leases in Redis say the same


def test_it_hands_a_crashed_watchers_hosts_to_the_other_once_its_leases_run_out(hosts, watchers):
    a, b = two_owners(hosts)
    first, second = watchers(a), watchers(b)
    settle(first, second, hosts)
    # `first` crashes: it neither renews nor lets go. `second` must wait for the leases to run out, then take all.
    orphans = set(first.subscriptions)
    assert orphans and set(holders(orphans).values()) == {a}
    eventually(lambda: rescan_all(second) or set(second.subscriptions) == {host.pk for host in hosts},
               timeout=10 * LEASE_SECONDS + 10, interval=0.1, message="the crashed watcher's hosts taken over")
    assert set(holders(orphans).values()) == {b}


def test_it_lets_go_at_once_when_it_stops(hosts, watchers):
    first = watchers("watcher-a")
    rescan_all(first)
    assert set(first.subscriptions) == {host.pk for host in hosts}
    first.stop.set()
    first.run()  # stopped already: closes the subscriptions and hands the hosts over
    assert first.subscriptions == {} and holders(h.pk for h in hosts) == {h.pk: None for h in hosts}
    assert "watcher-a" not in {m.decode() for m in health.client().zrange(MEMBERS, 0, -1)}
    second = watchers("watcher-b")
    rescan_all(second)  # no wait for expiry
    assert set(second.subscriptions) == {host.pk for host in hosts}


def test_it_watches_no_host_whose_lease_another_holds(hosts, watchers):
    health.client().set(LEASE.format(hosts[0].pk), "someone-else", px=60_000)
    alone = watchers("watcher-a")
    rescan_all(alone)
    assert hosts[0].pk not in alone.subscriptions and len(alone.subscriptions) == len(hosts) - 1


def test_it_keeps_only_hosts_surely_still_its_own_while_redis_does_not_answer(hosts, watchers):
    import redis

    watcher = watchers("watcher-a")
    rescan_all(watcher)
    unreachable = redis.Redis(unix_socket_path="/nonexistent/redis.sock", socket_timeout=0.2)
    deadlines = {**watcher.leases.deadlines, hosts[0].pk: 0.0}  # as if renewed longer than a lease ago
    watcher.leases = HostLeases(owner="watcher-a", ttl=LEASE_SECONDS, client=unreachable)
    watcher.leases.deadlines = deadlines
    watcher.rescan()
    assert set(watcher.subscriptions) == {host.pk for host in hosts[1:]}


def watcher_process(tmp_path, name):
    return AppProcess(name, [sys.executable, "manage.py", "watch_hosts", "--rescan", "0.3",
                             "--lease", str(LEASE_SECONDS * 2)], tmp_path)


def owner_id(process):
    """The watcher id a `watch_hosts` process printed when it started."""
    eventually(lambda: " as " in process.output(), timeout=30, interval=0.1, message=f"{process.name} started")
    return next(line.split(" as ", 1)[1].split(";")[0] for line in process.output().splitlines() if " as " in line)


def test_it_shares_hosts_between_watcher_processes_and_one_killed_hands_its_hosts_over(hosts, tmp_path):
    """Real `manage.py watch_hosts` processes; the leases read from Redis tell who watches what."""
    host_ids = [host.pk for host in hosts]
    processes = [watcher_process(tmp_path, "watcher-1"), watcher_process(tmp_path, "watcher-2")]
    try:
        owners = {owner_id(process): process for process in processes}

        def shared():
            held = holders(host_ids)
            return held == {pk: rendezvous_owner(pk, list(owners)) for pk in host_ids} and held

        held = eventually(shared, timeout=60, interval=0.2, message="two watcher processes sharing the hosts")
        victim = Counter(held.values()).most_common(1)[0][0]  # the one with hosts to hand over
        survivor = next(owner for owner in owners if owner != victim)
        os.killpg(owners[victim].pid, signal.SIGKILL)  # no chance to let go
        owners[victim].proc.wait(timeout=10)
        eventually(lambda: set(holders(host_ids).values()) == {survivor}, timeout=60, interval=0.2,
                   message="every host held by the survivor")
        assert owners[survivor].proc.poll() is None
    finally:
        for process in processes:
            process.stop()


def test_it_ignores_the_events_of_a_host_whose_lease_ran_out(hosts, watchers):
    from instances.models import Instance

    watcher = watchers("watcher-a")
    rescan_all(watcher)
    uuid = "11111111-1111-4111-8111-111111111111"  # web1 in the small node
    Instance.objects.filter(host=hosts[0], uuid=uuid).delete()
    watcher.leases.deadlines[hosts[0].pk] = 0.0  # not renewed for longer than a lease: maybe another's now
    watcher.handle("domain", hosts[0].pk, uuid)
    assert not Instance.objects.filter(host=hosts[0], uuid=uuid).exists()
    rescan_all(watcher)  # renewed: its events count again
    watcher.handle("domain", hosts[0].pk, uuid)
    assert Instance.objects.filter(host=hosts[0], uuid=uuid).exists()
