"""A bulk action's SQL queries do not grow with its VMs: rows are loaded, written and audited in batches, whatever
their number (bench/instances.py acts on 200 VMs of 4 hosts at once)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing import fleet_node_xml
from hosts.connection import call
from instances.models import Instance

pytestmark = pytest.mark.django_db
BULK = "/api/instances/bulk/"
# The session's user is force_authenticate'd (no session query): the VMs (1), their hosts (1), the rows written
# in one transaction (BEGIN, one UPDATE run for all, their hosts' recount (instances/totals.py: one GROUP BY, one
# DELETE, one INSERT), COMMIT) and the audit entry in its savepoint (3).
QUERIES = 11
SHUTOFF, RUNNING = 5, 1


@pytest.fixture
def fleet(node_dir, make_host):
    """fleet(count): two test-driver hosts of `count` running VMs each; their ids."""
    def make(count):
        hosts = []
        for index in range(2):
            path = node_dir / f"bulk-{count}-{index}.xml"
            path.write_text(fleet_node_xml(count, running_every=1, prefix=f"h{index}-vm"))
            hosts.append(make_host(uri=f"test://{path}", host_name=f"bulk-{count}-{index}"))
        return list(Instance.objects.filter(host__in=hosts).order_by("pk").values_list("pk", flat=True))
    return make


def queries_of(api, action, ids):
    """The SQL statements of one bulk action on `ids`, all of which succeeded."""
    with CaptureQueriesContext(connection) as queries:
        response = api.post(BULK, {"action": action, "ids": ids}, format="json")
    assert response.status_code == 200 and response.json()["succeeded"] == len(ids), response.content
    return [query["sql"] for query in queries.captured_queries]


def libvirt_states(ids):
    states = set()
    for vm in Instance.objects.filter(pk__in=ids).select_related("host"):
        uuid = str(vm.uuid)
        states.add(call(vm.host, lambda conn: conn.lookupByUUIDString(uuid).state()[0]))
    return states


@pytest.mark.parametrize("action,then", [("destroy", "start"), ("suspend", "resume")])
def test_it_makes_as_many_queries_for_24_vms_as_for_6(api, fleet, action, then):
    few, many = fleet(3), fleet(12)
    counts = {}
    for ids in (few, many):
        counts[len(ids)] = [len(queries_of(api, name, ids)) for name in (action, then)]
    assert counts == {6: [QUERIES, QUERIES], 24: [QUERIES, QUERIES]}, queries_of(api, action, many)


def test_it_still_writes_every_row_and_one_audit_entry_naming_every_vm(api, fleet):
    from audit.models import AuditEntry

    ids = fleet(12)
    queries_of(api, "destroy", ids)
    assert set(Instance.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"shutoff"}
    assert libvirt_states(ids) == {SHUTOFF}  # read from libvirt itself, not through the rows
    entry = AuditEntry.objects.filter(path=BULK).latest("pk")
    assert (entry.result, entry.params) == ("ok", {"action": "destroy", "ids": ids})
    queries_of(api, "start", ids)
    assert set(Instance.objects.filter(pk__in=ids).values_list("state", flat=True)) == {"running"}
    assert libvirt_states(ids) == {RUNNING}
