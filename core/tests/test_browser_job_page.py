"""A job's page in Debian's Chromium (Playwright) through daphne: it follows its own job, and a job that ends
between the page's rendering and its websocket's opening (its last event then reaches nobody) still shows its
end, without a reload."""
import re

import pytest
from playwright.sync_api import expect

from core.models import Job
from tests.test_browser import chromium_page, daphne, in_thread, log_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status(page):
    return page.locator("#job-detail dt", has_text="Status").locator("xpath=following-sibling::dd[1]")


def test_it_shows_a_job_that_ended_before_its_websocket_opened(admin_user, daphne):
    job = Job.objects.create(kind="test", user=admin_user, status=Job.Status.RUNNING, progress=40)
    path = f"/jobs/{job.pk}/"
    sockets = []

    def end_the_job_then_connect(socket):
        # The page is rendered (the job runs) and opens its websocket: the job ends now, before the socket is
        # open, and its event reaches nobody (nothing is published here at all).
        in_thread(lambda: Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress=100))
        sockets.append(socket.url)
        socket.connect_to_server()

    with chromium_page() as page:
        log_in(page, daphne)
        expect(page).not_to_have_url(re.compile("/login/"))
        page.route_web_socket(re.compile(r"/ws/inventory/"), end_the_job_then_connect)
        page.goto(f"{daphne}{path}")
        expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))
        assert sockets == [f"{daphne.replace('http', 'ws')}/ws/inventory/?topics=job%3A{job.pk}"]  # its job only
        expect(status(page)).to_have_text(re.compile(r"^\s*succeeded\s*$"))
        expect(page.locator("#job-detail .progress-bar")).to_have_text("100%")
        # A finished job's page has nothing left to catch up on after a reconnect.
        expect(page.locator("[data-live-refetch-on-open]")).to_have_count(0)
