"""The lifecycle in Debian's Chromium (Playwright) through daphne, on real TCG guests of the lab: the VM page's
buttons change with the state, the list's bulk form gives a result per VM, and delete wants the name typed.
Every state is read back with virsh, not through virtdeck.

The lab guests have no OS: SeaBIOS finds nothing to boot, so an ACPI shutdown is sent and ignored, and the
page says it waits for the guest; Force off then stops it.
"""
import re
import subprocess

import pytest
from playwright.sync_api import expect

from hosts.sync import sync_host
from instances.models import Instance
from tests.test_browser import chromium_page, daphne, log_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def virsh(lab, *args, check=True):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=check)


def domstate(lab, dom):
    return virsh(lab, "domstate", dom.name()).stdout.strip()


def buttons(page):
    """The lifecycle buttons the VM page shows now, by action name."""
    return page.locator("#instance-lifecycle [data-action]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.action)")


def test_it_starts_shuts_down_and_forces_off_with_the_buttons_the_state_allows(admin_user, lab, lab_host,
                                                                              lab_guests, daphne):
    dom = lab_guests.define(start=False, prefix="vd-browser")
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    lifecycle = "#instance-lifecycle"

    with chromium_page() as page:
        log_in(page, daphne, next_path=vm.get_absolute_url())
        expect(page.locator(f"{lifecycle} [data-action=start]")).to_be_visible()
        assert buttons(page) == ["start", "autostart_on", "delete"]

        page.locator(f"{lifecycle} [data-action=start]").click()
        expect(page.locator(".alert-success")).to_contain_text(f"{dom.name()} started.")
        assert domstate(lab, dom) == "running"
        assert buttons(page) == ["shutdown", "reboot", "reset", "suspend", "save", "destroy", "autostart_on"]

        page.locator(f"{lifecycle} [data-action=shutdown]").click()
        expect(page.locator("#shutdown-pending")).to_contain_text("Waiting for the guest to shut down.")
        assert domstate(lab, dom) == "running"  # no OS to heed the power button
        page.screenshot(path="/tmp/virtdeck-lifecycle-shutdown.png", full_page=True)

        page.locator(f"{lifecycle} [data-action=destroy]").click()
        expect(page.locator(".alert-success")).to_contain_text(f"{dom.name()} forced off")
        assert domstate(lab, dom) == "shut off"
        expect(page.locator("#shutdown-pending")).to_have_count(0)
        assert buttons(page) == ["start", "autostart_on", "delete"]


def test_it_applies_a_bulk_action_with_a_result_per_vm(admin_user, lab, lab_host, lab_guests, daphne):
    stopped = lab_guests.define(start=False, prefix="vd-browser")
    running = lab_guests.define(start=True, prefix="vd-browser")
    sync_host(lab_host)
    ids = {dom.name(): Instance.objects.get(host=lab_host, uuid=dom.UUIDString()).pk for dom in (stopped, running)}

    with chromium_page() as page:
        log_in(page, daphne, next_path="/instances/")
        for pk in ids.values():
            page.locator(f"#select-{pk}").check()
        page.locator("#bulk-action").select_option("start")
        page.get_by_role("button", name="Apply").click()
        # One VM started, the other refused with its reason: each gets its own result.
        expect(page.locator(".alert-success")).to_contain_text(f"Start: done for {stopped.name()}.")
        expect(page.locator(".alert-danger")).to_contain_text(
            re.compile(rf"Start of {running.name()} failed: .*running"))
        page.screenshot(path="/tmp/virtdeck-lifecycle-bulk.png", full_page=True)
    assert domstate(lab, stopped) == "running" and domstate(lab, running) == "running"


def test_it_deletes_a_vm_only_once_its_name_is_typed(admin_user, lab, lab_host, lab_guests, daphne):
    dom = lab_guests.define(start=False, prefix="vd-browser")
    name = dom.name()
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())

    with chromium_page() as page:
        log_in(page, daphne, next_path=vm.get_absolute_url())
        page.locator("#instance-lifecycle [data-action=delete]").click()
        expect(page).to_have_url(re.compile(rf"/instances/{vm.pk}/delete/$"))
        page.get_by_label(re.compile("to confirm")).fill(name + "-typo")
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(".invalid-feedback")).to_be_visible()
        assert virsh(lab, "dominfo", name, check=False).returncode == 0  # still defined

        page.get_by_label(re.compile("to confirm")).fill(name)
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(".alert-success")).to_contain_text(f"{name} deleted.")
        expect(page).to_have_url(re.compile(r"/instances/$"))
    gone = virsh(lab, "dominfo", name, check=False)
    assert gone.returncode != 0 and "failed to get domain" in gone.stderr
    assert not Instance.objects.filter(pk=vm.pk).exists()
