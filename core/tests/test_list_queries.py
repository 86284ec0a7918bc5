"""Every list page and list API runs the same number of queries whatever the number of rows (no N+1).

Marked `postgres` (conftest.POSTGRES_SUBSET): `make test` checks this on SQLite and on PostgreSQL.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = ("hosts:host_list", "instances:instance_list", "instances:instancetemplate_list", "networks:network_list",
         "storage:storagepool_list", "storage:volume_list", "core:job_list", "audit:auditentry_list")
APIS = ("api-hosts:host-list", "api-instances:instance-list", "api-networks:network-list",
        "api-storage:storagepool-list", "api-storage:volume-list", "api-core:job-list", "api-audit:auditentry-list",
        "api-templates:instancetemplate-list")
def queries(client, url):
    """(queries run, rows listed) for one visit."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"per_page": 1000, "limit": 1000})
    assert response.status_code == 200, url
    rows = response.json()["count"] if url.startswith("/api/") else response.context["paginator"].count
    return len(captured), rows


def test_it_runs_as_many_queries_for_many_rows_as_for_few(admin_client, fleet_rows):
    """All lists in one test: the rows are the slow part to make (hosts are synced from libvirt)."""
    urls = [reverse(name) for name in PAGES + APIS]
    fleet_rows()
    for url in urls:
        queries(admin_client, url)  # the first visit may store the page size and warm the session
    few = {url: queries(admin_client, url) for url in urls}
    fleet_rows()
    fleet_rows()
    many = {url: queries(admin_client, url) for url in urls}
    for url in urls:
        (few_queries, few_rows), (many_queries, many_rows) = few[url], many[url]
        assert many_rows >= 3 * few_rows > 0, f"{url}: {few_rows} then {many_rows} rows"
    grew = {url: (few[url][0], many[url][0]) for url in urls if few[url][0] != many[url][0]}
    assert not grew, f"queries for one round of rows, then three: {grew}"
