"""The add-host form in Chromium: the transport chosen first shows only its fields; for SSH, virtdeck fetches
the host key of the two-host lab's hostA (htmx, under the CSP), the admin confirms its fingerprint, and the host
is saved with that key pinned."""
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hosts.models import Host
from tests.test_browser import chromium_page, daphne, log_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_it_adds_an_ssh_host_after_confirming_the_fetched_key(admin_user, two_hosts, daphne):  # noqa: F811
    host_pub = Path(two_hosts["ssh_key"]).parent / "host_key.pub"
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(host_pub)], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
    with chromium_page() as page:
        log_in(page, daphne, "/hosts/add/")
        page.get_by_label("TLS", exact=True).check()
        expect(page.get_by_label("TLS CA certificate")).to_be_visible()
        expect(page.get_by_label("SSH private key")).to_be_hidden()
        expect(page.locator("#uri-example")).to_have_text("qemu+tls://kvm1.example.org/system")
        page.get_by_label("This machine").check()
        expect(page.get_by_label("SASL user name")).to_be_hidden()
        expect(page.get_by_label("TLS CA certificate")).to_be_hidden()

        page.get_by_label("SSH", exact=True).check()
        expect(page.get_by_label("TLS CA certificate")).to_be_hidden()
        page.get_by_label("Name", exact=True).fill("hostA")
        page.get_by_label("URI", exact=True).fill("qemu+ssh://root@10.77.0.1/system")
        page.get_by_label("SSH private key").fill(Path(two_hosts["ssh_key"]).read_text())
        page.get_by_role("button", name="Fetch the host key").click()
        expect(page.locator("[data-fingerprint]")).to_have_text(fingerprint)
        page.get_by_label("The fingerprints match: pin this key").check()
        page.screenshot(path="/tmp/virtdeck-add-host-ssh.png", full_page=True)
        page.get_by_role("button", name="Connect and save").click()
        page.wait_for_load_state()
        page.screenshot(path="/tmp/virtdeck-add-host-saved.png", full_page=True)
        expect(page.locator(".alert-success")).to_contain_text("hostA saved and reachable")
    host = Host.objects.get(name="hostA")
    assert host.ssh_known_hosts.split()[:3] == ["10.77.0.1", *host_pub.read_text().split()[:2]]
