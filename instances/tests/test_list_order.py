"""The instance list reads a page from an index for every column it is sorted by, both ways, so that a page of 100
costs the same at 50,000 VMs as at 5,000 (bench/fleet.py): no sort of the whole table in the query plan, on SQLite
and on PostgreSQL."""
import re

import pytest
from django.db import connection, transaction

from core.generic import sortable_columns
from core.sorting import nullable
from instances.filters import InstanceFilterSet
from instances.models import Instance
from instances.views import InstanceListView

pytestmark = pytest.mark.django_db


def page_sql(ordering):
    """The SQL and parameters of the list page's first page of 100 rows, sorted by `ordering` ("" for none)."""
    filterset = InstanceFilterSet({"ordering": ordering} if ordering else {}, queryset=InstanceListView.queryset)
    return filterset.qs[:100].query.sql_with_params()


def sorts_the_table(sql, params):
    """Whether the plan of the query has a sort step: SQLite's, with the planner's statistics as a database in
    use has them; PostgreSQL's with sorting priced out (a few rows are cheaper to sort than to read by index,
    so only a plan that cannot do without a sort keeps one)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [row[-1] for row in cursor.fetchall() if "TEMP B-TREE" in row[-1]]
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        # Not an Incremental Sort: by host, PostgreSQL reads the hosts by name and sorts each one's VMs by id.
        return [row[0] for row in cursor.fetchall() if re.match(r"\s*(->\s+)?Sort\s+\(", row[0])]


@pytest.mark.parametrize("key", ["", *(sign + key for key in sortable_columns(InstanceFilterSet) for sign in "-+")])
def test_it_reads_a_page_from_an_index(make_host, key):
    make_host("small")
    Instance.objects.filter(name="db1").update(cpu_time_ns=None)  # a driver that reports no CPU time: last both ways
    assert not sorts_the_table(*page_sql(key.lstrip("+"))), key


def test_it_breaks_ties_by_pk_in_the_sorts_direction(make_host):
    make_host("small")
    sql, _ = page_sql("-vcpus")
    assert '"vcpus" DESC, "instances_instance"."id" DESC' in sql and "NULLS LAST" not in sql
    sql, _ = page_sql("vcpus")
    assert '"vcpus" ASC, "instances_instance"."id" ASC' in sql


def test_it_keeps_nulls_last_only_where_a_column_can_be_null():
    assert nullable(Instance, "cpu_time_ns") and not nullable(Instance, "vcpus")
    assert not nullable(Instance, "host__name")  # through a NOT NULL foreign key
    assert nullable(Instance, "no_such_column")
    sql, _ = page_sql("-cpu_time")
    assert '"cpu_time_ns" DESC NULLS LAST' in sql


def test_it_lists_the_vms_without_cpu_time_last_both_ways(make_host):
    """What the indexes serve is the order the list promises (core/sorting.py): NULL last, ascending too."""
    make_host("small")
    Instance.objects.update(cpu_time_ns=5)  # the test driver reports none for running VMs: give them some
    Instance.objects.filter(name="db1").update(cpu_time_ns=None)
    for key in ("cpu_time", "-cpu_time"):
        names = [vm.name for vm in InstanceFilterSet({"ordering": key}, queryset=InstanceListView.queryset).qs]
        assert len(names) == 3 and names[-1] == "db1", (key, names)
