"""/api/networks/: the generic viewset and action tests, create with dry run, leases, VMs, XML."""
import pytest
from django.test import Client
from django.urls import reverse

from core.testing.api import APIActionTests, APIViewSetTests
from hosts.connection import call
from networks import services
from networks.models import Network

pytestmark = pytest.mark.django_db

LIST = "/api/networks/"


def libvirt_names(host):
    return sorted(call(host, lambda conn: [n.name() for n in conn.listAllNetworks(0)]))


class TestNetworkAPI(APIViewSetTests):
    list_url_name = "api-networks:network-list"
    filters = [({"mode": "nat"}, {"default"}), ({"search": "virbr1"}, {"backend"})]

    @pytest.fixture
    def objects(self, host):
        return list(Network.objects.filter(host=host))


class TestNetworkStopAPI(APIActionTests):
    url_name = "api-networks:network-stop"
    status = 200

    @pytest.fixture
    def obj(self, backend):
        return backend

    def assert_done(self, obj, response):
        assert response.json()["active"] is False
        assert call(obj.host, lambda conn: conn.networkLookupByName("backend").isActive()) == 0


class TestNetworkStartAPI(APIActionTests):
    url_name = "api-networks:network-start"
    status = 200

    @pytest.fixture
    def obj(self, backend):
        return services.stop_network(backend)

    def assert_done(self, obj, response):
        assert response.json()["active"] is True


PAYLOAD = {"name": "api-nat", "mode": "nat", "ipv4_address": "10.213.8.1", "ipv4_prefix": 24,
           "dhcp_start": "10.213.8.10", "dhcp_end": "10.213.8.20",
           "static_hosts": [{"mac": "52:54:00:00:00:21", "ip": "10.213.8.21", "name": "web"}]}


def test_it_creates_a_network(api, host):
    response = api.post(LIST, {**PAYLOAD, "host": host.pk, "autostart": True}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["mode"], body["active"], body["autostart"], body["static_hosts"]) == ("nat", True, True, 1)
    assert "api-nat" in libvirt_names(host)


def test_it_answers_a_dry_run_with_the_xml_and_defines_nothing(api, host):
    response = api.post(LIST, {**PAYLOAD, "host": host.pk, "dry_run": True}, format="json")
    assert response.status_code == 200 and "<forward mode=\"nat\"/>" in response.json()["xml"].replace("'", '"')
    assert "api-nat" not in libvirt_names(host)


@pytest.mark.parametrize("change, words", [
    ({"name": "a/b"}, "'/'"),
    ({"name": "backend"}, "already exists"),
    ({"mode": "vxlan"}, "mode"),
    ({"ipv4_address": "192.168.122.5", "dhcp_start": "", "dhcp_end": "", "static_hosts": []}, "overlaps"),
    ({"dhcp_end": "10.213.9.1"}, "dhcp_end"),
    ({"ipv4_prefix": -1}, "ipv4_prefix"),
    ({"ipv4_prefix": 10**20}, "ipv4_prefix"),
    ({"static_hosts": [{"mac": "52:54:00:00:00:21", "ip": "10.213.8.99"}] * 2}, "static_hosts[1]"),
    ({"mode": "macvtap", "ipv4_address": "", "ipv4_prefix": None, "dhcp_start": "", "dhcp_end": "",
      "static_hosts": []}, "forward_dev"),
    ({"name": "x\u202eevil"}, "Bidirectional"),
    ({"name": "x" * 300}, "name"),
])
def test_it_refuses_bad_input_with_a_400_naming_the_field(api, host, change, words):
    response = api.post(LIST, {**PAYLOAD, "host": host.pk, **change}, format="json")
    assert response.status_code == 400, response.content
    assert words in response.content.decode()
    assert libvirt_names(host) == ["backend", "default", "direct", "lan"]
    assert not Network.objects.filter(name="api-nat").exists()


def test_it_refuses_an_unknown_host(api, host):
    response = api.post(LIST, {**PAYLOAD, "host": 10**6}, format="json")
    assert response.status_code == 400 and "host" in response.json()


def test_it_deletes_a_network(api, backend):
    assert api.delete(f"{LIST}{backend.pk}/").status_code == 204
    assert "backend" not in libvirt_names(backend.host)
    assert not Network.objects.filter(pk=backend.pk).exists()


def test_it_lists_attached_vms_live(api, backend):
    body = api.get(f"{LIST}{backend.pk}/instances/").json()
    assert [(row["name"], row["mac"]) for row in body] == [("db1", "52:54:00:aa:bb:03"), ("web1", "52:54:00:aa:bb:02")]


def test_it_answers_409_for_leases_of_a_stopped_network(api, backend):
    services.stop_network(backend)
    response = api.get(f"{LIST}{backend.pk}/leases/")
    assert response.status_code == 409 and "not running" in response.json()["detail"]


def test_it_reads_and_replaces_the_xml_with_a_diff(api, backend):
    services.stop_network(backend)
    xml = api.get(f"{LIST}{backend.pk}/xml/").json()["xml"]
    response = api.put(f"{LIST}{backend.pk}/xml/", {"xml": xml.replace("10.50.0.1", "10.53.0.1")}, format="json")
    assert response.status_code == 200, response.content
    assert "+  <ip address='10.53.0.1'" in response.json()["diff"]
    assert "10.53.0.1" in call(backend.host, lambda conn: conn.networkLookupByName("backend").XMLDesc(0))


@pytest.mark.parametrize("xml, words", [
    ("<network><name>backend", "Malformed"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><network><name>backend</name></network>', "DOCTYPE"),
    ("<domain><name>backend</name></domain>", "<network>"),
    ("<network><name>other</name></network>", "renaming"),
])
def test_it_refuses_bad_xml_with_a_400_and_changes_nothing(api, backend, xml, words):
    before = call(backend.host, lambda conn: conn.networkLookupByName("backend").XMLDesc(0))
    response = api.put(f"{LIST}{backend.pk}/xml/", {"xml": xml}, format="json")
    assert response.status_code == 400 and words in response.json()["detail"]
    assert call(backend.host, lambda conn: conn.networkLookupByName("backend").XMLDesc(0)) == before


def test_it_needs_login_and_csrf_for_writes(client, admin_user, backend):
    assert client.post(LIST, PAYLOAD).status_code == 401
    assert client.put(f"{LIST}{backend.pk}/xml/", {}).status_code == 401
    assert client.get(f"{LIST}{backend.pk}/leases/").status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(LIST, {**PAYLOAD, "host": backend.host.pk}, content_type="application/json").status_code == 403
    assert strict.delete(f"{LIST}{backend.pk}/").status_code == 403
    assert Network.objects.filter(pk=backend.pk).exists()
