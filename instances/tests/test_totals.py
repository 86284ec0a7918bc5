"""The hosts' kept VM totals (instances/totals.py) match a recount of the rows after every path that writes
rows: the sync, an event, a gone VM, a bulk action's re-read, a migration's move, and a host's deletion."""
import threading

import pytest
from django.db import connection

from core.models import Job
from hosts.models import Host
from instances import inventory, migration, totals
from instances.models import HostStateTotals, Instance
from instances.tests import recounted_totals, records_of

pytestmark = pytest.mark.django_db

WEB1 = "11111111-1111-4111-8111-111111111111"


def test_it_counts_a_new_hosts_vms_by_state(make_host):
    host = make_host("small")
    assert totals.read() == recounted_totals()
    assert sum(row["n"] for row in totals.read().values()) == Instance.objects.filter(host=host).count() == 3


def test_it_follows_the_syncs_new_changed_and_gone_vms(make_host):
    host = make_host("small")
    records = records_of(host)
    web1 = next(r for r in records if r["name"] == "web1")
    web1.update(state="paused", vcpus=web1["vcpus"] + 3, memory_kib=web1["memory_kib"] * 2)
    records = [r for r in records if r["name"] != "db1"]
    records.append({**web1, "uuid": "44444444-4444-4444-8444-444444444444", "name": "new1", "state": "shutoff"})
    inventory.apply_records(host, records)
    assert totals.read() == recounted_totals()
    assert totals.read()[host.pk, "shutoff"]["n"] == 1


def test_a_steady_sync_leaves_the_totals_alone(make_host):
    host = make_host("small")
    records = records_of(host)
    for record in records:
        record["net_rx_bytes"] += 4096  # a counter moves, no total does
    before = list(HostStateTotals.objects.values_list("pk", flat=True))
    inventory.apply_records(host, records)
    assert list(HostStateTotals.objects.values_list("pk", flat=True)) == before


def test_it_follows_an_event_and_a_vanished_vm(make_host):
    host = make_host("small")
    record = next(r for r in records_of(host) if r["uuid"] == WEB1)
    inventory.apply_record(host, WEB1, {**record, "state": "crashed"})
    assert totals.read() == recounted_totals() and totals.read()[host.pk, "crashed"]["n"] == 1
    inventory.apply_record(host, WEB1, None)
    assert totals.read() == recounted_totals() and (host.pk, "crashed") not in totals.read()


def test_it_follows_a_bulk_actions_re_read(make_host):
    first, second = make_host("small"), make_host("small", host_name="second")
    vms = list(Instance.objects.order_by("pk"))
    rows = [(vms[0], {**records_of(first)[0], "state": "paused"}), (vms[-1], None)]
    rows[0][1].pop("uuid")
    inventory.apply_rows(rows)
    assert totals.read() == recounted_totals()
    assert {host for host, _state in totals.read()} == {first.pk, second.pk}


def test_it_moves_a_migrated_vms_count_to_the_target(make_host):
    source, target = make_host("small"), make_host("empty", host_name="target")
    row = Instance.objects.get(host=source, uuid=WEB1)
    Job.objects.create(kind=migration.JOB_KIND, target_kind="instance", target_id=str(row.pk),
                       status=Job.Status.RUNNING)
    assert migration.move_instance(row.pk, source, target)
    assert totals.read() == recounted_totals()
    assert sum(v["n"] for (host, _state), v in totals.read().items() if host == target.pk) == 1


def test_a_deleted_hosts_totals_go_with_it(make_host):
    host = make_host("small")
    Host.objects.filter(pk=host.pk).delete()
    assert totals.read() == {} == recounted_totals()


def test_it_recounts_a_host_from_its_rows(make_host):
    """What a write that did not call refresh leaves is set right by the host's next refresh."""
    host = make_host("small")
    Instance.objects.filter(host=host).update(state="crashed")
    assert totals.read() != recounted_totals()
    totals.refresh([host.pk])
    assert totals.read() == recounted_totals() == {(host.pk, "crashed"): totals.read()[host.pk, "crashed"]}


@pytest.mark.django_db(transaction=True)
def test_two_writers_recounting_one_host_at_once_both_land(make_host):
    """The sync and the watcher recount a host at the same moment: they take turns (on PostgreSQL, without the
    host row's lock, the second one's insert would collide with the first's)."""
    host = make_host("small")
    start, errors = threading.Barrier(2), []

    def writer(state):
        try:
            start.wait()
            for _ in range(15):
                Instance.objects.filter(host=host, uuid=WEB1).update(state=state)
                totals.refresh([host.pk])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(state,)) for state in ("paused", "crashed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert totals.read() == recounted_totals()


def test_the_admins_unfiltered_lists_take_their_count_from_the_totals(admin_client, make_host):
    """No COUNT of every VM row for the list's paginator: the kept totals give it (and a filter counts rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_host("small")
    make_host("small", host_name="second")
    for url in ("/instances/", "/api/instances/"):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")
                    and '"instances_instance"' in q["sql"]], url
        count = response.context["paginator"].count if url == "/instances/" else response.json()["count"]
        assert count == Instance.objects.count() == 6
    filtered = admin_client.get("/api/instances/", {"state": "running", "ordering": "name"}).json()
    assert filtered["count"] == Instance.objects.filter(state="running").count() == 2
    page = admin_client.get("/instances/", {"search": "web"})
    assert page.context["paginator"].count == 2


def test_an_operators_list_counts_their_rows(make_host, client, django_user_model):
    from access.models import Grant, Role
    from core.testing import PASSWORD

    make_host("small")
    operator = django_user_model.objects.create_user("op", "op@example.org", PASSWORD)
    Grant.objects.create(user=operator, role=Role.OPERATOR, instance=Instance.objects.get(name="web1"))
    client.force_login(operator)
    assert client.get("/instances/").context["paginator"].count == 1
    assert client.get("/api/instances/").json()["count"] == 1
