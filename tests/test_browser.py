"""The browser tier: Debian's Chromium, driven by Playwright, against a real daphne.

daphne and the host watcher run as subprocesses on the test database; the lab
libvirtd runs a real TCG guest that we start and destroy out of band (plain
libvirt, not virtdeck) while the instance list is open: the row changes state
over the websocket, without a reload.
"""
import contextlib
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from core.testing import PASSWORD, AppProcess, daphne_process, free_port, start_daphne
from core.tests.test_worker import worker  # noqa: F401 - the fixture: a Celery worker process
from hosts.models import Host
from hosts.sync import sync_host
from instances.models import Instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOT_COPY = Path("/tmp/virtdeck-instances.png")


@pytest.fixture
def daphne(tmp_path):
    """daphne serving virtdeck.asgi on a free loopback port; yields the base URL."""
    with daphne_process(tmp_path) as (base, _):
        yield base


@contextlib.contextmanager
def chromium_page():
    """A fresh Chromium page. Playwright's sync API runs an event loop in this thread, so the
    Django ORM refuses to work while it is open: do database work before entering this."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 800}).new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def running_guest(lab_host, lab_guests):
    return lab_guests.define(prefix="vd-browser")


@pytest.fixture
def watcher(lab_host, running_guest, tmp_path):
    """manage.py watch_hosts, started after the host exists; ready once it watches the lab host."""
    service = AppProcess("watcher", [sys.executable, "manage.py", "watch_hosts", "--rescan", "0.5"], tmp_path)
    try:
        service.wait_until(lambda: f"watching {lab_host.name} (" in service.output(), timeout=30,
                           what="subscribed to the lab host")
        yield service
    finally:
        service.stop()


def log_in(page, base, next_path=None):
    page.goto(f"{base}/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_it_shows_a_vm_destroyed_out_of_band_without_a_reload(admin_user, lab_host, running_guest, watcher,
                                                               daphne, tmp_path):
    dom_uuid = running_guest.UUIDString()
    assert sync_host(lab_host) >= 1
    assert Instance.objects.get(uuid=dom_uuid).state == "running"
    with chromium_page() as page:
        elapsed = watch_it_shut_off(page, daphne, running_guest, tmp_path)
    print(f"row read 'shut off' {elapsed:.2f} s after the out-of-band destroy; screenshot {SCREENSHOT_COPY}")


def watch_it_shut_off(page, daphne, running_guest, tmp_path):
    dom_uuid = running_guest.UUIDString()

    log_in(page, daphne)
    expect(page).to_have_url(f"{daphne}/")
    expect(page.locator("nav")).to_contain_text("admin")

    page.get_by_role("link", name="Instances").click()
    expect(page).to_have_url(f"{daphne}/instances/")
    row = page.locator(f'tr[data-uuid="{dom_uuid}"]')
    expect(row.locator("td.vm-state")).to_have_text("running")
    expect(row).to_contain_text(running_guest.name())
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))

    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))
    page.evaluate("""() => {
        window.__marker = 1;
        window.__states = [];
        document.addEventListener("virtdeck:instance", (e) => window.__states.push(e.detail.state));
    }""")

    running_guest.destroy()  # out of band: plain libvirt, not virtdeck
    started = time.monotonic()
    expect(page.locator(f'tr[data-uuid="{dom_uuid}"] td.vm-state')).to_have_text("shut off", timeout=10_000)
    elapsed = time.monotonic() - started

    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    assert navigations == [], navigations
    assert "shutoff" in page.evaluate("window.__states"), "no instance event came over the websocket"
    expect(page).to_have_url(f"{daphne}/instances/")
    expect(page.locator(f'tr[data-uuid="{dom_uuid}"]')).to_have_attribute("data-state", "shutoff")
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))

    shot = tmp_path / "instances.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)
    return elapsed


def test_it_sends_an_anonymous_visitor_to_the_login_page(daphne):
    with chromium_page() as page:
        page.goto(f"{daphne}/instances/")
        expect(page).to_have_url(f"{daphne}/login/?next=/instances/")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        expect(page.locator("#live-status")).to_have_count(0)  # no nav, no websocket for anonymous pages


def in_thread(fn):
    """Run ORM work while a Playwright page is open (its event loop makes Django refuse it in this thread)."""
    thread = threading.Thread(target=fn)
    thread.start()
    thread.join(timeout=30)


def test_it_catches_up_when_the_websocket_reconnects(admin_user, make_host, tmp_path):
    host = make_host("small")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_daphne(port, tmp_path)
    try:
        with chromium_page() as page:
            log_in(page, base, "/hosts/")
            expect(page).to_have_url(f"{base}/hosts/")
            expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"))
            page.evaluate("() => { window.__marker = 1; }")

            web.stop()  # the websocket drops; what changes now sends no event to this page
            expect(page.locator("#live-status")).to_have_text(re.compile("reconnecting"))
            in_thread(lambda: Host.objects.filter(pk=host.pk).update(name="renamed-while-away"))
            web = start_daphne(port, tmp_path, name="daphne-again")

            expect(page.locator("#live-status")).to_have_text(re.compile(r"^\s*live\s*$"), timeout=30_000)
            expect(page.locator(f'tr[data-host="{host.pk}"]')).to_contain_text("renamed-while-away")
            assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    finally:
        web.stop()


@pytest.fixture
def shut_off_guest(lab_host, lab_guests):
    dom = lab_guests.define(start=False, prefix="vd-browser")
    sync_host(lab_host)
    return dom


def job_finished(page):
    """On a job's page, until its status is final. Reloaded meanwhile: a job that ends before the page's
    websocket is connected sends its last event to nobody, and the page would wait for it forever."""
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    for _ in range(120):
        if page.locator("dd", has_text=re.compile(r"^\s*(succeeded|failed|cancelled)\s*$")).count():
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError("the job did not finish within a minute")


def job_done(page, vm, text):
    """A snapshot write goes on to its job's page (the worker runs it); once it succeeded, back to the VM."""
    job_finished(page)
    expect(page.locator("body")).to_contain_text("succeeded")
    expect(page.locator("body")).to_contain_text(text)  # the job's log
    page.goto(page.url.split("/jobs/")[0] + vm.get_absolute_url())


def test_it_snapshots_a_vm_from_its_page(admin_user, shut_off_guest, daphne, worker):  # noqa: F811
    """Take, revert to and delete an internal snapshot with the VM page's Snapshots section (each a job the
    worker runs, followed on its page); libvirt (through virsh, not virtdeck) confirms each step."""
    import subprocess

    vm = Instance.objects.get(uuid=shut_off_guest.UUIDString())
    uri = vm.host.uri

    def snapshots():
        listed = subprocess.run(["virsh", "-c", uri, "snapshot-list", shut_off_guest.name(), "--name"],
                                capture_output=True, text=True, check=True).stdout
        return [name for name in listed.split("\n") if name]

    with chromium_page() as page:
        log_in(page, daphne, next_path=f"/instances/{vm.pk}/")
        expect(page).to_have_url(f"{daphne}/instances/{vm.pk}/")
        section = page.locator("#snapshots")
        expect(section).to_contain_text("No snapshots.")  # loaded after the page, by htmx
        expect(section).to_contain_text("Internal or external?")

        section.get_by_label("Name").fill("from the browser")
        section.get_by_label("Internal").check()
        section.get_by_label("Description").fill("clean state")
        section.get_by_role("button", name="Take snapshot").click()

        expect(page.locator(".alert-success")).to_contain_text("Taking snapshot from the browser of")
        job_done(page, vm, "Snapshot from the browser of")
        row = page.locator('#snapshots tr[data-snapshot="from the browser"]')
        expect(row).to_contain_text("current")
        expect(row).to_contain_text("clean state")
        assert snapshots() == ["from the browser"]

        shut_off_guest.create()  # out of band; the revert brings the VM back to shut off
        row.get_by_role("button", name="Revert").click()
        job_done(page, vm, "Reverted by libvirt.")
        assert not shut_off_guest.isActive()

        page.locator('#snapshots tr[data-snapshot="from the browser"]').get_by_role("link", name="Delete").click()
        expect(page.get_by_role("heading")).to_contain_text("Delete snapshot from the browser of")
        page.get_by_role("button", name="Delete snapshot").click()
        job_done(page, vm, "deleted")
        expect(page.locator("#snapshots")).to_contain_text("No snapshots.")
        assert snapshots() == []


def test_it_reverts_a_vm_to_an_external_snapshot_from_its_page(admin_user, shut_off_guest, daphne,
                                                                 worker):  # noqa: F811
    """Disk-only snapshot, then the revert libvirt 9.0 cannot do, by virtdeck, from the page; virsh and
    qemu-img (not virtdeck) confirm that the disk is back on the snapshot's image."""
    import json
    import subprocess

    from lxml import etree

    vm = Instance.objects.get(uuid=shut_off_guest.UUIDString())
    uri = vm.host.uri

    def disk_source():
        xml = subprocess.run(["virsh", "-c", uri, "dumpxml", shut_off_guest.name(), "--inactive"],
                             capture_output=True, text=True, check=True).stdout
        return etree.fromstring(xml.encode()).xpath("devices/disk[target/@dev='vda']/source/@file")[0]

    def backing_of(path):
        info = subprocess.run(["qemu-img", "info", "-U", "--output=json", path], capture_output=True, text=True,
                              check=True).stdout
        return json.loads(info).get("backing-filename")

    image = disk_source()
    with chromium_page() as page:
        log_in(page, daphne, next_path=f"/instances/{vm.pk}/")
        section = page.locator("#snapshots")
        expect(section).to_contain_text("No snapshots.")
        section.get_by_label("Name").fill("disk only")
        section.get_by_label("External (disk only)").check()
        section.get_by_role("button", name="Take snapshot").click()
        job_done(page, vm, "Snapshot disk only of")
        overlay = disk_source()
        assert overlay != image and backing_of(overlay) == image

        row = page.locator('#snapshots tr[data-snapshot="disk only"]')
        expect(row).to_contain_text("external")
        row.get_by_role("button", name="Revert (by virtdeck)").click()

        job_finished(page)
        expect(page.locator("body")).to_contain_text("succeeded")
        expect(page.locator("body")).to_contain_text("Reverted by virtdeck, not libvirt")
        expect(page.locator("body")).to_contain_text(overlay)  # the state left behind, kept (the job's log)
        fresh = disk_source()
        assert fresh not in (image, overlay) and backing_of(fresh) == image


def test_it_creates_a_vm_with_the_wizard_after_previewing_its_xml(admin_user, lab, lab_host, daphne,
                                                                   worker):  # noqa: F811
    import uuid

    import libvirt

    from lab import guest

    name = f"vd-browser-{uuid.uuid4().hex[:8]}"
    conn = libvirt.open(lab["uri"])  # out of band: what libvirt itself says
    try:
        with chromium_page() as page:
            log_in(page, daphne, "/instances/new/")
            page.get_by_label("Host", exact=True).select_option(label=lab_host.name)
            page.get_by_label("No installation media (an empty VM)").check()
            page.get_by_role("button", name="Next").click()
            expect(page.locator("body")).to_contain_text("This host allows at most")
            page.get_by_label("Name", exact=True).fill(name)
            page.get_by_label("Memory (MiB)").fill("256")
            page.get_by_label("vCPUs").fill("1")
            page.get_by_role("button", name="Preview XML").click()
            expect(page.get_by_label("Domain XML")).to_have_value(re.compile(f"<name>{name}</name>"))
            assert name not in [d.name() for d in conn.listAllDomains(0)]  # the preview made nothing
            page.get_by_role("button", name="Create").click()
            expect(page).to_have_url(re.compile(rf"{daphne}/jobs/\d+/$"))
            expect(page.locator("body")).to_contain_text("succeeded", timeout=60_000)
        assert conn.lookupByName(name).isActive()
    finally:
        guest.remove(conn, name)
        conn.close()

