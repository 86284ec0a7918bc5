"""The browser tier for metrics and the dashboard: Chromium shows a lab VM's graph with the points of two real
samples and draws a third one live; the dashboard shows the lab host and a running job's progress moving.
Database work runs before the page opens or in a thread (Playwright's loop owns this thread)."""
import threading

import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in, running_guest  # noqa: F401 (fixtures)

from core.events import publish
from core.models import Job
from hosts.sync import sync_host
from instances.models import Instance
from metrics import sampler

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]
POINTS = "el => Number(el.dataset.points)"
CPU_POINTS = ("el => Chart.getChart(el.querySelector('canvas')).data.datasets[0].data"
              ".filter(p => p.y !== null).length")


def in_thread(fn):
    thread = threading.Thread(target=fn)
    thread.start()
    thread.join()


def test_it_draws_a_vms_graph_and_adds_new_samples_live(admin_user, lab_host, running_guest, daphne):  # noqa: F811
    assert sync_host(lab_host) >= 1  # the guest was defined after the host was added
    instance = Instance.objects.get(host=lab_host, uuid=running_guest.UUIDString())
    assert sampler.sample_host(lab_host) >= 1
    threading.Event().wait(1.5)  # the second sample one and a half seconds later: its rates
    assert sampler.sample_host(lab_host) >= 1
    with chromium_page() as page:
        log_in(page, daphne, next_path=f"/instances/{instance.pk}/")
        graphs = page.locator("[data-metrics]")
        expect(graphs).to_have_attribute("data-points", "2")
        assert graphs.evaluate(CPU_POINTS) == 1  # the first sample has no rate yet: a gap, not a zero
        expect(page.locator("[data-metrics-empty]")).to_be_hidden()
        threading.Event().wait(1.1)  # a sample in a later second than the last one
        in_thread(lambda: sampler.sample_host(lab_host))
        page.wait_for_function("n => Number(document.querySelector('[data-metrics]').dataset.points) >= n", arg=3,
                               timeout=30_000)  # the graph polls every sampling interval (10 s)
        with page.expect_response(lambda r: "range=day" in r.url) as day:
            page.get_by_role("button", name="Day").click()
        expect(page.get_by_role("button", name="Day")).to_have_attribute("aria-pressed", "true")
        # The day graph draws the 5-minute averages the API gave (none, unless the samples straddled a bucket).
        expect(graphs).to_have_attribute("data-points", str(len(day.value.json()["points"])))


def test_it_shows_the_lab_host_and_a_running_jobs_progress(admin_user, lab_host, daphne):  # noqa: F811
    job = Job.objects.create(kind="wait", status=Job.Status.RUNNING, progress=30, host=lab_host)
    with chromium_page() as page:
        log_in(page, daphne)
        hosts = page.locator("[data-dashboard-hosts]")
        expect(hosts.locator(f'tr[data-host="{lab_host.pk}"]')).to_contain_text("lab")
        expect(hosts.locator(f'tr[data-host="{lab_host.pk}"] .badge')).to_have_text("up")
        bar = page.locator("[data-active-jobs] [role=progressbar]")
        expect(bar).to_have_attribute("aria-valuenow", "30")
        expect(page.locator("#live-status")).to_contain_text("live")

        def advance():
            Job.objects.filter(pk=job.pk).update(progress=80)
            publish("job", id=job.pk, status=job.status, progress=80, host=lab_host.pk, target=None)

        in_thread(advance)
        expect(bar).to_have_attribute("aria-valuenow", "80")
