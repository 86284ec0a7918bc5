"""The browser tier for live migration: Chromium opens a running lab VM's page on hostA, presses Migrate, reads
the precheck, starts the migration, and watches the job page (run by a real Celery worker) until the VM runs
on hostB; virsh on both hosts confirms it."""
import re

import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)

from core.models import Job
from core.testing import eventually
from core.tests.test_worker import worker  # noqa: F401 (a fixture)
from hosts.sync import sync_host
from instances.models import Instance
from instances.tests.test_lab_migration import lab_vms, pair, runs_on  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
# The guest keeps rewriting 32 MiB: at 16 MiB/s the move lasts several 0.5 s samples, and 3 s of downtime
# lets it converge (as test_lab_migration.SAMPLED).
BANDWIDTH_MIB, DOWNTIME_MS = "16", "3000"


def test_it_migrates_a_running_vm_from_its_page_and_watches_it_move(admin_user, pair, lab_vms, two_hosts,
                                                                    worker, daphne):  # noqa: F811
    host_a, host_b = pair
    name = lab_vms("shared")
    sync_host(host_a)
    row = Instance.objects.get(host=host_a, name=name)
    with chromium_page() as page:
        log_in(page, daphne)
        page.goto(f"{daphne}{row.get_absolute_url()}")
        page.locator("#detail-migration").get_by_role("link", name="Migrate").click()
        expect(page).to_have_url(re.compile(rf"/instances/{row.pk}/migrate/$"))
        target = page.locator('[data-precheck] tr[data-host="hostB"]')
        expect(target).to_have_attribute("data-can", "yes")
        expect(target).to_contain_text("needs unsafe")  # the shared lab directory is a plain one
        page.get_by_label("Target host").select_option(label="hostB")
        page.get_by_label("Unsafe: I know the disks are on storage both hosts share").check()
        page.get_by_label("Maximum bandwidth (MiB/s)").fill(BANDWIDTH_MIB)
        page.get_by_label("Maximum downtime (ms)").fill(DOWNTIME_MS)
        page.locator("[data-migrate-form]").get_by_role("button", name="Migrate").click()
        expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
        job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        # While it runs, the live page shows the monitor's figures and a bar between its ends.
        bar = page.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^([6-9]|[1-9][0-9])$"), timeout=60_000)
        expect(page.locator("[data-migration-figures] dl")).to_contain_text("Data processed")
        expect(bar).to_have_attribute("aria-valuenow", "100", timeout=120_000)
        expect(page.locator("#job-detail")).to_contain_text("succeeded")
        expect(page.locator("[data-migration-figures]")).to_contain_text("the VM was paused for")
        # Chart.js drew the memory remaining per iteration from the job's samples.
        # htmx draws it once the last swap has settled, which may be just after the text above appears.
        bars = eventually(lambda: page.evaluate(
            "() => { const chart = Chart.getChart(document.querySelector('[data-migration-chart] canvas'));"
            " return chart ? chart.data.datasets[0].data.length : 0; }"), timeout=30, message="the chart drawn")
        page.goto(f"{daphne}{row.get_absolute_url()}")
        expect(page.get_by_role("link", name="hostB", exact=True).first).to_be_visible()
    job = Job.objects.get(pk=job_id)
    assert bars == len(job.result["remaining_by_iteration"]) >= 1
    assert job.kind == "migrate" and job.status == "succeeded", (job.error, job.log)
    assert job.result["target"] == "hostB" and job.result["samples"] >= 1
    assert Instance.objects.get(pk=row.pk).host == host_b  # the same row moved
    assert runs_on(two_hosts["b"]["uri"], name) == "running" and runs_on(two_hosts["a"]["uri"], name) == ""
