"""Browser tier: the Migrate page's `virsh migrate` line follows the options as they change (htmx asks the server
for the line; no page script of virtdeck's own), and the copy button holds the line shown."""
import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)
from test_browser_csp import RECORD_VIOLATIONS, violations

from instances.models import Instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_updates_the_migrate_line_as_the_options_change(admin_user, make_host, daphne):
    source = make_host("small")
    make_host("empty", host_name="empty")
    vm = Instance.objects.get(host=source, name="web1")
    with chromium_page() as page:
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.add_init_script(RECORD_VIOLATIONS)
        log_in(page, daphne, f"/instances/{vm.pk}/migrate/")
        line = page.locator("#command-preview pre").first
        form = page.locator("#migrate-form")
        form.get_by_label("Target host").select_option(label="empty")
        expect(line).to_contain_text(f"virsh -c {source.uri} migrate --live --persistent --undefinesource --p2p")
        expect(line).not_to_contain_text("--bandwidth")

        form.get_by_label("Maximum bandwidth (MiB/s)").fill("64")
        expect(line).to_contain_text("--bandwidth 64 --verbose web1")
        form.get_by_label("Live (the VM keeps running while it moves)").uncheck()
        expect(line).not_to_contain_text("--live")
        form.get_by_label("Storage", exact=True).select_option("copy_all")
        expect(line).to_contain_text("--copy-storage-all")
        form.get_by_label("Allow switching to post-copy").check()
        expect(page.locator("#command-preview")).to_contain_text("migrate-postcopy web1")

        copy = page.locator("#command-preview [data-copy-command]").first
        assert copy.get_attribute("data-copy-command") == line.inner_text()
        form.get_by_label("Maximum bandwidth (MiB/s)").fill("-1")  # invalid: a hint instead of a wrong line
        expect(page.locator("#command-preview [data-command-hint]")).to_be_visible()
        assert violations(page, messages) == []


def test_it_updates_the_delete_and_hardware_lines_inside_their_own_forms(admin_user, make_host, daphne):
    host = make_host("small")
    web1, db1 = (Instance.objects.get(host=host, name=name) for name in ("web1", "db1"))
    with chromium_page() as page:
        log_in(page, daphne, f"/instances/{web1.pk}/delete/")
        line = page.locator("#command-preview pre").first
        expect(line).to_have_text(f"virsh -c {host.uri} undefine web1 --managed-save --snapshots-metadata --nvram")
        page.get_by_label("Also delete its disk images (with its external snapshots' overlays)").check()
        expect(line).to_contain_text("--storage /var/lib/libvirt/images/web1.qcow2")

        page.goto(f"{daphne}/instances/{db1.pk}/hardware/")
        nic = page.locator("#commands-nic-add")
        expect(nic.locator("[data-command-hint]")).to_be_visible()  # no source yet
        page.locator("#form-nic-add").get_by_label("Source").fill("default")
        expect(nic.locator("pre")).to_have_text(f"virsh -c {host.uri} attach-interface db1 network default "
                                                "--model virtio --config")
        page.locator("#vcpus").fill("2")
        expect(page.locator("#commands-counts")).to_contain_text("setvcpus db1 2 --config")
        expect(nic.locator("pre")).to_contain_text("attach-interface")  # each form keeps its own line
