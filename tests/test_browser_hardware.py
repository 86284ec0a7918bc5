"""Browser tier: a NIC added by form on the hardware page of a running lab guest, its cable pulled, its vCPU
maximum raised; each result read back from libvirt directly (its own connection), not only from the page."""
import uuid

import libvirt
import pytest
from lxml import etree
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)

from instances.models import Instance

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def isolated_network(lab):
    """A transient network with only a bridge (no forward, no IP, so no dnsmasq): its name."""
    conn = libvirt.open(lab["uri"])
    network = conn.networkCreateXML(f"<network><name>vd-browser-{uuid.uuid4().hex[:8]}</name></network>")
    yield network.name()
    network.destroy()
    conn.close()


def test_it_adds_a_nic_by_form_and_pulls_its_cable(admin_user, lab, make_host, isolated_network, lab_guests, daphne):
    dom = lab_guests.define(prefix="vd-browser")
    vm = Instance.objects.get(host=make_host("lab", uri=lab["uri"]), uuid=dom.UUIDString())

    with chromium_page() as page:
        log_in(page, daphne, f"/instances/{vm.pk}/")
        page.get_by_role("link", name="Edit hardware").click()
        expect(page).to_have_url(f"{daphne}/instances/{vm.pk}/hardware/")

        form = page.locator("#form-nic-add")
        form.get_by_label("Source").fill(isolated_network)
        form.get_by_role("button", name="Add").click()

        expect(page.locator(".alert-success")).to_contain_text("nic: now")
        row = page.locator("#nics tbody tr").first
        expect(row).to_contain_text(isolated_network)
        mac = row.get_attribute("data-mac")
        running = etree.fromstring(dom.XMLDesc(0))
        assert running.xpath("devices/interface/mac/@address") == [mac]
        assert running.xpath("devices/interface/source/@network") == [isolated_network]

        row.get_by_label("Link").select_option("false")
        row.get_by_role("button", name="Set").click()

        expect(page.locator(".alert-success")).to_contain_text("link_up: now")
        assert etree.fromstring(dom.XMLDesc(0)).xpath("devices/interface/link/@state") == ["down"]

        page.locator("#max_vcpus").fill("2")
        page.locator("#form-counts").get_by_role("button", name="Apply").click()

        expect(page.locator(".alert-success")).to_contain_text("max_vcpus: at the next boot")
        expect(page.locator(".alert-info")).to_contain_text("vcpu")  # waiting for the next boot
        assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM) == 2
        assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_VCPU_MAXIMUM) == 1
