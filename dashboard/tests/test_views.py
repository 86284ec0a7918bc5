"""The dashboard: hosts with CPU, memory and storage use, VMs by state, running jobs, recent failures."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from core.testing import fleet_node_xml
from hosts.models import Host
from storage.models import StoragePool

pytestmark = pytest.mark.django_db


def test_it_shows_hosts_with_their_use_and_vms_by_state(admin_client, make_host):
    host = make_host("small")  # web1 running, cache1 paused, db1 shut off
    Host.objects.filter(pk=host.pk).update(cpu_percent=37.0, memory_total_kib=1000, memory_free_kib=250)
    StoragePool.objects.create(host=host, name="images", uuid="44444444-4444-4444-8444-444444444444",
                               capacity=1000, allocation=900)
    response = admin_client.get(reverse("dashboard:dashboard"))
    assert response.status_code == 200
    row = next(h for h in response.context["hosts"] if h.pk == host.pk)
    assert row.storage_used_percent == 90.0 and row.memory_used_percent == 75.0
    assert response.context["states"] == [("running", "running", 1), ("paused", "paused", 1),
                                          ("shutoff", "shut off", 1)]
    content = response.content.decode()
    assert "37 %" in content and 'aria-valuenow="90.0"' in content and 'aria-valuenow="75.0"' in content
    assert '?state=shutoff' in content


def test_it_counts_unreachable_hosts(admin_client, make_host):
    host = make_host("small")
    Host.objects.filter(pk=host.pk).update(state=Host.State.UNREACHABLE, last_error="connection refused")
    response = admin_client.get("/")
    assert response.context["hosts_down"] == 1 and response.context["hosts_up"] == 0
    assert "connection refused" in response.content.decode()


def test_it_shows_running_jobs_with_progress_and_recent_failures(admin_client, make_host):
    host = make_host("small")
    running = Job.objects.create(kind="wait", status=Job.Status.RUNNING, progress=42, host=host)
    Job.objects.create(kind="wait", status=Job.Status.SUCCEEDED, progress=100)
    failed = Job.objects.create(kind="wait", status=Job.Status.FAILED, error="disk full")
    old = Job.objects.create(kind="wait", status=Job.Status.FAILED, error="long ago")
    Job.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=2))
    response = admin_client.get("/")
    assert list(response.context["active_jobs"]) == [running]
    assert list(response.context["failures"]) == [failed]
    content = response.content.decode()
    assert 'aria-valuenow="42"' in content and "disk full" in content and "long ago" not in content


def test_it_names_its_live_topics(admin_client, db):
    content = admin_client.get("/").content.decode()
    assert '<meta name="live-topics" content="host instance job storage">' in content


def test_it_needs_a_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_calls_no_libvirt(admin_client, make_host, monkeypatch):
    """The dashboard is read from the inventory: a hung host cannot hold it."""
    make_host("small")
    from virt import connection

    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard called libvirt")

    monkeypatch.setattr(connection.Pool, "call", refuse)
    assert admin_client.get("/").status_code == 200


def test_its_host_rows_speak_the_requests_language(admin_client, make_host):
    """The row tags translate their labels once per page (core.templatetags.virtdeck.translated_once): a page in
    English, then one in Vietnamese, each gets its own language's labels."""
    make_host("small")  # web1 running, cache1 paused, db1 shut off
    english = admin_client.get("/").content.decode()
    vietnamese = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert '<span class="badge text-bg-success">up</span>' in english
    assert '<span class="text-success" title="running">1 running</span>' in english and "(3 in all)" in english
    assert '<span class="badge text-bg-success">hoạt động</span>' in vietnamese
    assert '<span class="text-success" title="đang chạy">1 đang chạy</span>' in vietnamese
    assert "(tổng 3)" in vietnamese


def dashboard_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_it_makes_as_many_queries_for_four_hosts_of_12_vms_as_for_one_of_3(admin_client, make_host, node_dir):
    """Aggregates, not a query per host or VM (bench/fleet.py draws it at 200 hosts and 50,000 VMs); an admin's
    reads no VM row: the hosts' kept totals (instances/totals.py), once, for the host rows' counts and the
    fleet's totals alike."""
    make_host("small")
    few = dashboard_queries(admin_client)
    for index in range(3):
        path = node_dir / f"fleet-{index}.xml"
        path.write_text(fleet_node_xml(12, prefix=f"h{index}-vm"))
        make_host(uri=f"test://{path}", host_name=f"fleet-{index}")
    many = dashboard_queries(admin_client)
    assert len(many) == len(few), many
    assert not [sql for sql in many if '"instances_instance"' in sql], many
    assert len([sql for sql in many if '"instances_hoststatetotals"' in sql]) == 1, many
    response = admin_client.get("/")
    assert response.context["totals"]["total"] == 3 + 3 * 12
    assert sum(host.vm_count for host in response.context["hosts"]) == 3 + 3 * 12
