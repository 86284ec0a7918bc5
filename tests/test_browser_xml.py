"""The browser tier for the domain XML editor: Chromium edits a real lab VM's XML in CodeMirror, reviews the
diff and saves it; the result is read back through libvirt on a connection of its own."""
import contextlib
import re
import uuid

import libvirt
import pytest
from lxml import etree
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)

from hosts.sync import sync_host
from instances.models import Instance

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_it_edits_a_running_vms_xml_with_a_diff(admin_user, lab_host, lab_guests, daphne):  # noqa: F811
    dom = lab_guests.define(start=True)
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    detail = f"{daphne}{vm.get_absolute_url()}"

    with chromium_page() as page:
        log_in(page, daphne)
        page.goto(detail)
        page.get_by_role("link", name="Edit XML").click()
        expect(page).to_have_url(f"{daphne}/instances/{vm.pk}/xml/")
        expect(page.locator(".CodeMirror")).to_be_visible()  # the editor, highlighted
        expect(page.locator(".CodeMirror .cm-tag").first).to_be_visible()
        assert "passwd" not in page.evaluate("document.querySelector('#id_xml').xmlEditor.getValue()")

        page.evaluate("""() => {
            const editor = document.querySelector('#id_xml').xmlEditor;
            editor.setValue(editor.getValue()
                .replace(/<memory unit='KiB'>\\d+</, "<memory unit='KiB'>196608<")
                .replace(/<currentMemory unit='KiB'>\\d+</, "<currentMemory unit='KiB'>196608<"));
        }""")
        page.get_by_role("button", name="Review changes").click()
        review = page.locator("#xml-review")
        expect(review.locator('[data-part="memory"]')).to_be_visible()
        expect(page.locator("#xml-diff")).to_contain_text('+  <memory unit="KiB">196608</memory>')
        expect(page.locator("#xml-diff")).to_contain_text('-  <memory unit="KiB">262144</memory>')
        expect(page.locator("#next-boot-note")).to_contain_text("memory")
        assert etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findtext("memory") == "262144"
        page.screenshot(path="/tmp/virtdeck-xml-review.png", full_page=True)

        page.get_by_role("button", name="Save").click()
        expect(page.locator(".alert-success")).to_contain_text(re.compile(r"Changed: memory, currentMemory"))
        expect(page.locator(".alert-warning", has_text="is running")).to_contain_text("at its next boot")
        page.screenshot(path="/tmp/virtdeck-xml-editor.png", full_page=True)

    assert etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findtext("memory") == "196608"
    assert etree.fromstring(dom.XMLDesc(0)).findtext("memory") == "262144"  # running as it was until its next boot


def test_it_creates_a_vm_from_pasted_xml(admin_user, lab_host, lab_guests, daphne, tmp_path):  # noqa: F811
    from lab import guest

    name = f"vd-test-xml-{uuid.uuid4().hex[:8]}"
    xml = guest.domain_xml(name, guest.make_disk(tmp_path, name))
    try:
        with chromium_page() as page:
            log_in(page, daphne)
            page.goto(f"{daphne}/instances/")
            page.get_by_role("link", name="Create from XML").click()
            page.get_by_label("Host").select_option(label="lab")
            expect(page.locator(".CodeMirror")).to_be_visible()
            page.evaluate("(xml) => document.querySelector('#id_xml').xmlEditor.setValue(xml)", xml)
            page.get_by_role("button", name="Define the VM").click()
            expect(page.locator("h1")).to_contain_text(name)
            expect(page.locator(".alert-success")).to_contain_text(f"{name} defined on lab")
            page.screenshot(path="/tmp/virtdeck-from-xml.png", full_page=True)
        dom = lab_guests.conn.lookupByName(name)
        assert Instance.objects.get(uuid=dom.UUIDString()).name == name
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            lab_guests.conn.lookupByName(name).undefine()
