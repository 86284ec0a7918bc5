"""The instance list reads a page from an index for every column it is sorted by except the two each sync
rewrites, so that a page of 100 costs the same at 50,000 VMs as at 5,000 (bench/fleet.py): no sort of the whole
table in the query plan."""
import pytest
from django.db import connection

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


def plan(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]


# Rewritten on every running VM by each sync: no index (instances/models.py), a bounded sort instead.
VOLATILE = {"cpu_time", "updated"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL's: bench/fleet.py")
@pytest.mark.parametrize("key", ["", *(sign + key for key in sortable_columns(InstanceFilterSet) if key not in VOLATILE
                                       for sign in "-+")])
def test_it_reads_a_page_from_an_index(make_host, key):
    make_host("small")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as a database in use has them
    details = plan(*page_sql(key.lstrip("+")))
    assert not [d for d in details if "TEMP B-TREE" in d], (key, details)


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
