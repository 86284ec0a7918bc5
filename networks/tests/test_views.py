"""Network pages: the generic list, detail, action and delete tests, the create form, the XML editor."""
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.testing.views import ActionViewTests, DeleteViewTests, DetailViewTests, ListViewTests
from hosts.connection import call
from networks import services
from networks.models import Network

pytestmark = pytest.mark.django_db


def libvirt_names(host):
    return sorted(call(host, lambda conn: [n.name() for n in conn.listAllNetworks(0)]))


class TestNetworkList(ListViewTests):
    url_name = "networks:network_list"
    filters = [({"mode": "nat"}, {"default"}), ({"search": "virbr1"}, {"backend"}),
               ({"mode": ["bridge", "macvtap"]}, {"lan", "direct"})]

    @pytest.fixture
    def objects(self, host):
        return list(Network.objects.filter(host=host))


class TestNetworkDetail(DetailViewTests):
    url_name = "networks:network_detail"

    @pytest.fixture
    def obj(self, backend):
        return backend

    def test_it_shows_attached_vms_and_the_xml(self, admin_client, obj):
        body = admin_client.get(reverse(self.url_name, args=[obj.pk])).content.decode()
        assert "52:54:00:aa:bb:03" in body and "&lt;name&gt;backend&lt;/name&gt;" in body

    def test_it_still_renders_when_the_host_refuses(self, admin_client, obj, monkeypatch):
        from virt.errors import HostUnreachable

        def down(*args, **kwargs):
            raise HostUnreachable("connection refused")

        monkeypatch.setattr(services, "call", down)  # the host going away is not reproducible on the test driver
        response = admin_client.get(reverse(self.url_name, args=[obj.pk]))
        assert response.status_code == 200 and "connection refused" in response.content.decode()


class TestNetworkStart(ActionViewTests):
    url_name = "networks:network_start"

    @pytest.fixture
    def obj(self, backend):
        return services.stop_network(backend)

    def assert_done(self, obj, response):
        assert Network.objects.get(pk=obj.pk).active
        assert call(obj.host, lambda conn: conn.networkLookupByName("backend").isActive()) == 1


class TestNetworkStop(ActionViewTests):
    url_name = "networks:network_stop"

    @pytest.fixture
    def obj(self, backend):
        return backend

    def assert_done(self, obj, response):
        assert not Network.objects.get(pk=obj.pk).active
        assert call(obj.host, lambda conn: conn.networkLookupByName("backend").isActive()) == 0


class TestNetworkAutostart(ActionViewTests):
    url_name = "networks:network_autostart"

    @pytest.fixture
    def obj(self, backend):
        return backend

    def assert_done(self, obj, response):
        assert call(obj.host, lambda conn: conn.networkLookupByName("backend").autostart()) == 1


class TestNetworkDelete(DeleteViewTests):
    url_name = "networks:network_delete"

    @pytest.fixture
    def obj(self, backend):
        return backend

    def test_it_removes_it_from_libvirt(self, admin_client, obj):
        admin_client.post(reverse(self.url_name, args=[obj.pk]), {"name": "backend"})
        assert "backend" not in libvirt_names(obj.host)


def test_it_hides_buttons_the_state_does_not_allow(admin_client, backend):
    body = admin_client.get(reverse("networks:network_detail", args=[backend.pk])).content.decode()
    assert 'data-action="stop"' in body and 'data-action="start"' not in body


FORM = {"name": "lab", "mode": "nat", "ipv4_address": "10.213.6.1", "ipv4_prefix": "24",
        "dhcp_start": "10.213.6.10", "dhcp_end": "10.213.6.50", "static_hosts": "52:54:00:00:00:09 10.213.6.9 web",
        "dns_hosts": "10.213.6.9 web.lab"}


def test_it_creates_a_network_from_the_form(admin_client, host):
    response = admin_client.post(reverse("networks:network_add"), {**FORM, "host": host.pk, "autostart": "on"})
    network = Network.objects.get(host=host, name="lab")
    assert response.status_code == 302 and response["Location"] == network.get_absolute_url()
    assert network.active and network.autostart and network.static_hosts == 1
    assert "lab" in libvirt_names(host)
    xml = call(host, lambda conn: conn.networkLookupByName("lab").XMLDesc(0))
    assert "<hostname>web.lab</hostname>" in xml


def test_it_previews_the_xml_and_defines_nothing(admin_client, host):
    response = admin_client.post(reverse("networks:network_add"), {**FORM, "host": host.pk, "preview": "1"})
    assert response.status_code == 200 and 'id="preview"' in response.content.decode() and "nat" in response.context["preview"]
    assert "lab" not in libvirt_names(host) and not Network.objects.filter(name="lab").exists()


@pytest.mark.parametrize("change, field", [
    ({"dhcp_start": "10.99.0.1"}, "dhcp_start"),
    ({"ipv4_address": "192.168.122.9", "dhcp_start": "", "dhcp_end": "", "static_hosts": ""}, "ipv4_address"),
    ({"name": "../x"}, None),
    ({"static_hosts": "not a lease line at all"}, "static_hosts"),
    ({"dns_hosts": "10.213.6.9"}, "dns_hosts"),
    ({"dns_hosts": "10.213.6.9 bad_name!"}, "dns_hosts"),
    ({"mode": "bridge"}, "ipv4_address"),
])
def test_it_shows_bad_input_on_its_field_and_creates_nothing(admin_client, host, change, field):
    response = admin_client.post(reverse("networks:network_add"), {**FORM, "host": host.pk, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors and (field is None or field in form.errors), form.errors
    assert libvirt_names(host) == ["backend", "default", "direct", "lan"]


def test_it_edits_xml_after_showing_the_diff(admin_client, backend):
    services.stop_network(backend)
    url = reverse("networks:network_xml", args=[backend.pk])
    xml = admin_client.get(url).context["form"].initial["xml"]
    changed = xml.replace("10.50.0.1", "10.52.0.1")
    review = admin_client.post(url, {"xml": changed})
    assert review.status_code == 200 and "+  <ip address='10.52.0.1'" in review.context["diff"]
    assert 'id="diff"' in review.content.decode()
    assert "10.50.0.1" in services.read_xml(backend)  # nothing saved yet
    saved = admin_client.post(url, {"xml": changed, "confirmed": "True"})
    assert saved.status_code == 302
    assert "10.52.0.1" in services.read_xml(backend)
    assert Network.objects.get(pk=backend.pk).ipv4 == "10.52.0.1/24"


def test_it_refuses_hostile_xml_without_saving(admin_client, backend):
    url = reverse("networks:network_xml", args=[backend.pk])
    hostile = '<!DOCTYPE n [<!ENTITY e SYSTEM "file:///etc/passwd">]><network><name>backend</name>&e;</network>'
    for confirmed in ("", "True"):
        response = admin_client.post(url, {"xml": hostile, "confirmed": confirmed})
        assert response.status_code == 200 and "DOCTYPE" in response.content.decode()
    assert "backend" in services.read_xml(backend) and "root:" not in services.read_xml(backend)


def test_it_needs_login_and_csrf_for_create_and_xml(client, admin_user, backend):
    for url in (reverse("networks:network_add"), reverse("networks:network_xml", args=[backend.pk])):
        assert client.get(url)["Location"].startswith("/login/")
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(admin_user)
        assert strict.post(url, {**FORM, "host": backend.host.pk}).status_code == 403
    assert "lab" not in libvirt_names(backend.host)


def test_it_says_why_an_action_failed(admin_client, backend):
    def remove(conn):  # out of band: the row is behind
        network = conn.networkLookupByName("backend")
        network.destroy()
        network.undefine()

    call(backend.host, remove)
    response = admin_client.post(reverse("networks:network_stop", args=[backend.pk]))
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert response["Location"] == backend.get_absolute_url()
