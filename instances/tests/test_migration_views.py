"""The Migrate page and the migration job's figures on its page, on libvirt's test driver."""
import html
import json

import pytest
from django.urls import reverse

from core.models import Job
from hosts.models import Host
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def web1(make_host):
    small = make_host("small")
    make_host("empty", host_name="empty")
    return Instance.objects.get(host=small, name="web1")


def test_it_links_the_vms_page_to_its_migrate_page(admin_client, web1):
    page = admin_client.get(web1.get_absolute_url()).content.decode()
    assert reverse("instances:instance_migrate", args=[web1.pk]) in page


def test_it_shows_each_host_with_its_verdict_and_reasons(admin_client, web1):
    response = admin_client.get(reverse("instances:instance_migrate", args=[web1.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-host="empty" data-can="no"' in page
    assert "The VM&#x27;s network &#x27;default&#x27; does not exist or is not active on this host." in page
    assert 'name="target_host"' in page and 'name="max_bandwidth_mib"' in page


def test_it_refuses_a_host_that_cannot_take_the_vm_and_says_why(admin_client, web1):
    empty = Host.objects.get(name="empty")
    response = admin_client.post(reverse("instances:instance_migrate", args=[web1.pk]),
                                 {"target_host": empty.pk, "live": "on", "storage": "shared"})
    assert response.status_code == 400
    assert "does not exist or is not active on this host" in response.content.decode()
    assert not Job.objects.exists()


def test_it_refuses_bad_numbers_beside_their_field(admin_client, web1):
    response = admin_client.post(reverse("instances:instance_migrate", args=[web1.pk]),
                                 {"target_host": "x", "storage": "bogus", "max_bandwidth_mib": "-3"})
    assert response.status_code == 400
    form = response.context["form"]
    assert {"target_host", "storage", "max_bandwidth_mib"} <= set(form.errors)


def test_it_needs_a_login_and_csrf(client, web1, admin_user):
    url = reverse("instances:instance_migrate", args=[web1.pk])
    assert client.get(url).status_code == 302
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url, {"target_host": web1.host_id}).status_code == 403


def test_it_shows_a_migration_jobs_figures_and_convergence_chart(admin_client, web1):
    sample = {"phase": "iterating", "memory_percent": 42.0, "data_processed": 2**20, "data_remaining": 2**21,
              "data_total": 2**22, "memory_dirty_rate": 1200, "memory_iteration": 2, "expected_downtime_ms": 300}
    job = Job.objects.create(kind="migrate", target_kind="instance", target_id=str(web1.pk), status="succeeded",
                             log=[{"time": "2026-01-01T00:00:00", "level": "debug", "message": "progress",
                                   "data": sample}],
                             result={"total_ms": 2012, "downtime_ms": 81,
                                     "remaining_by_iteration": [[1, 2**28], [2, 2**24], [3, 0]]})
    page = admin_client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "42.0 %" in page and "1200 pages/s" in page and "300 ms" in page
    assert "Done in 2012 ms; the VM was paused for 81 ms." in page
    # The chart's points for Chart.js (static/js/migration-chart.js), and the same as a table for screen readers.
    points = [{"iteration": 1, "remaining": 268435456}, {"iteration": 2, "remaining": 16777216},
              {"iteration": 3, "remaining": 0}]
    assert f'data-points="{html.escape(json.dumps(points))}"' in page
    assert "<tr><td>2</td><td>16.0\xa0MB</td></tr>" in page and "js/migration-chart.js" in page


def test_it_offers_evacuate_on_the_host_page_and_lists_its_running_vms(admin_client, web1):
    url = reverse("hosts:host_evacuate", args=[web1.host_id])
    assert url in admin_client.get(web1.host.get_absolute_url()).content.decode()
    page = admin_client.get(url).content.decode()
    assert "web1" in page and "db1" not in page  # db1 is shut off


def test_it_starts_an_evacuation_from_the_page_and_refuses_bad_input(admin_client, web1, monkeypatch):
    from types import SimpleNamespace

    from instances.migration_tasks import evacuate_host

    monkeypatch.setattr(evacuate_host, "apply_async", lambda *args, **kwargs: SimpleNamespace(id="not-sent"))
    url = reverse("hosts:host_evacuate", args=[web1.host_id])
    bad = admin_client.post(url, {"parallel": "99", "target_host": str(web1.host_id)})
    assert bad.status_code == 400 and {"parallel", "target_host"} <= set(bad.context["form"].errors)
    response = admin_client.post(url, {"parallel": "2"})
    job = Job.objects.get(kind="evacuate")
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.params == {"host_id": web1.host_id, "target_id": None, "parallel": 2, "unsafe": False}
