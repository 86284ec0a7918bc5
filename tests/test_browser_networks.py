"""The browser tier for networks: Chromium creates a NAT network (previewing its XML first), opens the packet
path of a real lab VM on it and runs a trace through a real Celery worker; results read back through libvirt
and the trace's job row."""
import random
import re
import uuid

import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)

from core.models import Job
from core.testing import ip_forward_kept
from core.tests.test_worker import worker  # noqa: F401 (a fixture)
from instances import inventory
from lab import guest
from networks.models import Network
from virt.connection import ConnectionSpec, open_connection
from virt.networks import delete_network_if_present

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local_host(lab, make_host):
    return make_host("local", uri="qemu:///system")  # this machine: the trace runs tcpdump here


@pytest.fixture
def cleanup(lab):
    direct = open_connection(ConnectionSpec(key="direct", uri=lab["uri"]))  # out of band: not virtdeck's pool
    made = {"networks": [], "domains": []}
    with ip_forward_kept():
        yield direct, made
        for dom in made["domains"]:
            guest.remove(direct, dom.name())
        for name in made["networks"]:
            delete_network_if_present(direct, name)
    direct.close()


def test_it_creates_a_nat_network_and_traces_a_vm_on_it(admin_user, local_host, cleanup, worker, daphne,  # noqa: F811
                                                         tmp_path):
    direct, made = cleanup
    name, net = f"vd-test-{uuid.uuid4().hex[:6]}", f"10.214.{random.randint(1, 254)}"
    made["networks"].append(name)
    with chromium_page() as page:
        log_in(page, daphne)
        page.get_by_role("link", name="Networks").click()
        page.get_by_role("link", name="Create network").click()
        page.get_by_label("Host", exact=True).select_option(label="local")
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Mode", exact=True).select_option("nat")
        page.get_by_label("IPv4 address of the host").fill(f"{net}.1")
        page.get_by_label("DHCP range start").fill(f"{net}.100")
        page.get_by_label("DHCP range end").fill(f"{net}.150")
        page.get_by_role("button", name="Preview XML").click()
        expect(page.locator("#preview")).to_contain_text("<forward mode=\"nat\"/>")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(re.compile(r"/networks/\d+/$"))
        expect(page.locator("h1 .badge")).to_have_text("running")
        page.locator('button[data-action="stop"]').click()
        expect(page.locator("h1 .badge")).to_have_text("inactive")
        page.locator('button[data-action="start"]').click()
        expect(page.locator("h1 .badge")).to_have_text("running")
    assert direct.networkLookupByName(name).isActive() == 1

    dom = direct.defineXML(guest.domain_xml(f"vd-browser-{uuid.uuid4().hex[:6]}",
                                            guest.make_disk(tmp_path, "trace"), network=name))
    made["domains"].append(dom)
    dom.create()
    inventory.refresh_one(local_host, dom.UUIDString())
    network = Network.objects.get(host=local_host, name=name)

    with chromium_page() as page:
        log_in(page, daphne)
        page.goto(f"{daphne}{network.get_absolute_url()}")
        page.get_by_role("link", name="Packet path").click()
        expect(page.locator('#hops [data-kind="bridge"]')).to_contain_text(network.bridge)
        expect(page.locator('#hops [data-kind="firewall"]').last).to_contain_text("MASQUERADE")
        page.get_by_label("Seconds").fill("3")
        page.get_by_role("button", name="Start trace").click()
        expect(page).to_have_url(re.compile(r"\?job=\d+$"))
        expect(page.locator("#trace-hops")).to_be_visible(timeout=30_000)  # the live region fills in when it ends
        job_id = int(page.url.rsplit("=", 1)[1])
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.kind == "trace", (job.error, job.log)
    assert {hop["kind"] for hop in job.result["hops"] if "capture" in hop} == {"tap", "bridge", "uplink"}
