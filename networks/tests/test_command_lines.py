"""The network create page shows the virsh lines for the form's values: net-define of the very XML the create
would define, net-start, and net-autostart when asked; nothing is defined by asking."""
import html

import pytest
from django.urls import reverse

from networks import services
from networks.forms import NetworkForm
from networks.models import Network
from networks.tests.test_views import FORM, libvirt_names

pytestmark = pytest.mark.django_db


def preview(admin_client, **fields):
    response = admin_client.get(reverse("networks:network_add"), {"commands": "1", **fields})
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_net_define_start_and_autostart_for_the_form(admin_client, host):
    page = preview(admin_client, **FORM, host=host.pk, autostart="on")
    uri = html.escape(host.uri)
    for line in (f"virsh -c {uri} net-define lab.xml", f"virsh -c {uri} net-start lab",
                 f"virsh -c {uri} net-autostart lab"):
        assert f'data-copy-command="{line}"' in page, line
    # The file it reads is the XML the create defines, built by the same function.
    form = NetworkForm({**FORM, "host": host.pk})
    assert form.is_valid()
    xml = services.preview_network(**form.network_fields())
    assert html.escape(xml) in page and 'data-command-file="lab.xml"' in page
    assert "net-autostart" not in preview(admin_client, **FORM, host=host.pk)
    assert libvirt_names(host) == ["backend", "default", "direct", "lan"]
    assert not Network.objects.filter(name="lab").exists()


def test_it_shows_the_refusal_instead_of_a_line(admin_client, host):
    page = preview(admin_client, **{**FORM, "dhcp_start": "10.99.0.1"}, host=host.pk)
    assert "data-command-hint" in page and "net-define" not in page
    assert "dhcp_start" in page  # virtdeck's refusal, naming the field


def test_it_keeps_a_hostile_value_one_shell_word(admin_client, host):
    page = preview(admin_client, **{**FORM, "name": "lab;$(id)"}, host=host.pk)
    assert html.escape("net-start 'lab;$(id)'") in page
    assert html.escape("net-define 'lab;$(id).xml'") in page


def test_it_has_the_preview_and_its_form_on_the_page(admin_client, host):
    page = admin_client.get(reverse("networks:network_add")).content.decode()
    assert 'id="network-form"' in page and 'hx-include="#network-form"' in page
    assert 'hx-get="/networks/new/?commands=1"' in page or "?commands=1" in page


def test_it_refuses_the_preview_to_a_member(client, member, host):
    client.force_login(member)
    response = client.get(reverse("networks:network_add"), {"commands": "1", **FORM, "host": host.pk})
    assert response.status_code in (403, 404)
