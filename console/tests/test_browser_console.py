"""The console in Debian's Chromium (Playwright) through daphne, against a real TCG guest (lab): the noVNC
canvas shows the guest's screen, and Ctrl+Alt+Del from the toolbar reaches the guest."""
import threading

import libvirt
import pytest
from playwright.sync_api import expect

from core.testing import PASSWORD
from hosts.sync import sync_host
from instances.models import Instance
from tests.test_browser import chromium_page, daphne  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]

# Distinct colours on the noVNC canvas (SeaBIOS's text screen has a few; a blank one has one).
CANVAS_COLOURS = """() => {
  const canvas = document.querySelector('#console-screen canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 4) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  return {colours: seen.size, width: canvas.width, height: canvas.height};
}"""


def test_it_shows_the_guests_screen_and_sends_ctrl_alt_del(admin_user, lab, lab_host, lab_guests, daphne):
    dom = lab_guests.define(prefix="vd-browser")
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    # Out of band: libvirt tells us when the guest resets (the event loop is virtdeck's, registered already).
    watcher = libvirt.open(lab["uri"])
    rebooted = threading.Event()
    callback = watcher.domainEventRegisterAny(watcher.lookupByUUIDString(dom.UUIDString()),
                                              libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                              lambda *_: rebooted.set(), None)
    try:
        with chromium_page() as page:
            page.goto(f"{daphne}/login/?next=/instances/{vm.pk}/console/")
            page.get_by_label("User name").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
            page.wait_for_function(f"({CANVAS_COLOURS})().colours > 1", timeout=20_000)
            screen = page.evaluate(CANVAS_COLOURS)
            assert screen["width"] > 0 and screen["height"] > 0
            page.get_by_role("button", name="Ctrl+Alt+Del").click()
            assert rebooted.wait(30), "the guest did not reset after Ctrl+Alt+Del"
            # Reconnect takes a fresh ticket and shows the screen again.
            page.get_by_role("button", name="Reconnect").click()
            expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
            page.screenshot(path="/tmp/virtdeck-console.png")
            # Embedded in the VM page, on request.
            page.goto(f"{daphne}/instances/{vm.pk}/")
            page.get_by_role("button", name="Show the console here").click()
            expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
            page.wait_for_function(f"({CANVAS_COLOURS})().colours > 1", timeout=20_000)
        print(f"canvas {screen['width']}x{screen['height']} with {screen['colours']} colours; reset seen by libvirt")
    finally:
        watcher.domainEventDeregisterAny(callback)
        watcher.close()


def test_it_types_into_the_serial_console(admin_user, lab_host, lab_guests, daphne, tmp_path):
    from .test_lab_serial import define_with_serial

    dom = define_with_serial(lab_guests, tmp_path)
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    with chromium_page() as page:
        page.goto(f"{daphne}/login/?next=/instances/{vm.pk}/console/serial/")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
        page.locator("#console-screen .xterm-helper-textarea").focus()
        page.keyboard.type("typedInBrowser")
        expect(page.locator("#console-screen .xterm-rows")).to_contain_text("TYPEDiNbROWSER", timeout=20_000)
