"""The VMs' disks in the inventory (instances.InstanceDisk): written by the sync, the bulk actions' re-read and the
watcher's refresh only for the VMs whose disks changed, so a steady sync costs the same queries at any fleet size.

libvirt's test driver reports no block stats: its records carry no `disks` (virt.inventory), and the records here
get the disks a QEMU host reports (virt/tests/test_inventory_disks.py) added by hand.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing import fleet_node_xml
from hosts.sync import sync_host
from instances import inventory
from instances.models import Instance, InstanceDisk
from instances.tests import records_of

pytestmark = pytest.mark.django_db
TABLE = InstanceDisk._meta.db_table


def with_disks(records, changed=()):
    """The records, each with one disk named after its VM (a second one for the names in `changed`)."""
    for record in records:
        disks = [("vda", f"/srv/images/{record['name']}.qcow2")]
        if record["name"] in changed:
            disks.append(("vdb", f"/srv/images/{record['name']}-data.raw"))
        record["disks"] = tuple(disks)
    return records


def stored(host):
    return {(disk.instance.name, disk.target, disk.path)
            for disk in InstanceDisk.objects.filter(instance__host=host).select_related("instance")}


def sync_queries(host, records):
    """The SQL of a sync's database part (hosts.sync: current_rows, then apply_records) on these records."""
    with CaptureQueriesContext(connection) as queries:
        inventory.apply_records(host, records, inventory.current_rows(host))
    return [query["sql"] for query in queries.captured_queries]


def disk_writes(queries):
    return [sql for sql in queries if TABLE in sql and not sql.startswith("SELECT")]


@pytest.fixture
def fleet_host(node_dir, make_host):
    """fleet_host(count): a test-driver host of `count` VMs, synced, whose records carry one disk each."""
    def make(count):
        path = node_dir / f"disks-{count}.xml"
        path.write_text(fleet_node_xml(count, prefix="vm"))
        host = make_host(uri=f"test://{path}", host_name=f"disks-{count}")
        inventory.apply_records(host, with_disks(records_of(host)))
        return host
    return make


def test_it_stores_the_disks_a_host_reports(make_host):
    host = make_host("small")
    inventory.apply_records(host, with_disks(records_of(host), changed={"web1"}))
    assert stored(host) == {("web1", "vda", "/srv/images/web1.qcow2"), ("web1", "vdb", "/srv/images/web1-data.raw"),
                            ("db1", "vda", "/srv/images/db1.qcow2"), ("cache1", "vda", "/srv/images/cache1.qcow2")}
    assert inventory.current_rows(host)[str(Instance.objects.get(name="web1").uuid)]["disks"] == (
        ("vda", "/srv/images/web1.qcow2"), ("vdb", "/srv/images/web1-data.raw"))


def test_it_rewrites_only_the_disks_of_the_vms_whose_disks_changed(make_host):
    host = make_host("small")
    inventory.apply_records(host, with_disks(records_of(host)))
    kept = set(InstanceDisk.objects.exclude(instance__name="web1").values_list("pk", flat=True))
    assert disk_writes(sync_queries(host, with_disks(records_of(host)))) == []
    web1 = Instance.objects.get(name="web1")
    writes = disk_writes(sync_queries(host, with_disks(records_of(host), changed={"web1"})))
    assert [sql.split()[0] for sql in writes] == ["DELETE", "INSERT"] and f"IN ({web1.pk})" in writes[0], writes
    assert set(InstanceDisk.objects.exclude(instance=web1).values_list("pk", flat=True)) == kept
    assert ("web1", "vdb", "/srv/images/web1-data.raw") in stored(host)


def test_it_keeps_the_disks_when_the_host_reports_none_and_drops_them_with_their_vm(make_host):
    host = make_host("small")
    inventory.apply_records(host, with_disks(records_of(host)))
    before = stored(host)
    assert sync_host(host) == 3  # the test driver: records without disks, which are unknown, not none
    assert stored(host) == before
    inventory.apply_records(host, [r for r in with_disks(records_of(host)) if r["name"] != "web1"])
    assert {name for name, _target, _path in stored(host)} == {"db1", "cache1"}
    records = records_of(host)
    for record in records:
        record["disks"] = ()  # all detached
    inventory.apply_records(host, records)
    assert stored(host) == set()


def test_a_steady_sync_runs_as_many_queries_for_30_vms_as_for_3(fleet_host):
    few, many = fleet_host(3), fleet_host(30)
    counts = {}
    for host in (few, many):
        steady = sync_queries(host, with_disks(records_of(host)))
        one_changed = sync_queries(host, with_disks(records_of(host), changed={"vm0001"}))
        counts[host.name] = (len(steady), len(disk_writes(steady)), len(one_changed), len(disk_writes(one_changed)))
    # current_rows (2) and the transaction's 2 (a savepoint in a test); then the one VM's disks: DELETE, INSERT.
    assert counts == {"disks-3": (4, 0, 6, 2), "disks-30": (4, 0, 6, 2)}, counts


def test_the_whole_sync_runs_as_many_queries_for_30_vms_as_for_3(fleet_host):
    counts = {}
    for count in (3, 30):
        host = fleet_host(count)
        with CaptureQueriesContext(connection) as queries:
            assert sync_host(host) == count
        counts[count] = len(queries.captured_queries)
    assert counts[3] == counts[30], counts


def test_the_refresh_after_an_event_writes_disks_only_when_they_changed(make_host):
    host = make_host("small")
    record = with_disks(records_of(host))[0]
    inventory.apply_record(host, record["uuid"], record)
    for disks, writes in ((record["disks"], 0), ((("vda", "/srv/images/moved.qcow2"),), 2)):
        with CaptureQueriesContext(connection) as queries:
            inventory.apply_record(host, record["uuid"], {**record, "disks": disks})
        assert len(disk_writes([q["sql"] for q in queries.captured_queries])) == writes
    assert (record["name"], "vda", "/srv/images/moved.qcow2") in stored(host)


def test_a_bulk_re_read_writes_disks_only_for_the_vms_whose_disks_changed(fleet_host):
    counts = {}
    for count in (3, 30):
        host = fleet_host(count)
        vms = list(Instance.objects.filter(host=host).order_by("name"))
        records = {r["name"]: r for r in with_disks(records_of(host), changed={"vm0001"})}
        with CaptureQueriesContext(connection) as queries:
            inventory.apply_rows([(vm, records[vm.name]) for vm in vms])
        sql = [q["sql"] for q in queries.captured_queries]
        counts[count] = (len(sql), len(disk_writes(sql)))
        assert ("vm0001", "vdb", "/srv/images/vm0001-data.raw") in stored(host)
    assert counts[3] == counts[30] and counts[3][1] == 2, counts
