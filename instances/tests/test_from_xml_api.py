"""POST /api/instances/from-xml/ on libvirt's test driver, checked through libvirt itself."""
import libvirt
import pytest
from lxml import etree

from hosts.connection import call
from instances.models import Instance

from .test_xml_api import HOSTILE, WEB1

pytestmark = pytest.mark.django_db
URL = "/api/instances/from-xml/"
NEW_UUID = "44444444-4444-4444-8444-444444444444"


def domain_xml(name="imported", uuid=NEW_UUID, kind="test"):
    dom = etree.Element("domain", type=kind)
    etree.SubElement(dom, "name").text = name
    if uuid:
        etree.SubElement(dom, "uuid").text = uuid
    etree.SubElement(dom, "memory", unit="MiB").text = "256"
    etree.SubElement(dom, "vcpu").text = "1"
    etree.SubElement(etree.SubElement(dom, "os"), "type").text = "hvm"
    return etree.tostring(dom, encoding="unicode")


def domains(host):
    """{name: inactive XML} of every domain on the host, read without virtdeck."""
    return call(host, lambda conn: {d.name(): d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
                                    for d in conn.listAllDomains()})


@pytest.fixture
def small(make_host):
    return make_host("small")


def test_it_defines_a_vm_and_answers_201_with_its_row(api, small):
    response = api.post(URL, {"host": small.pk, "xml": domain_xml()}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    vm = Instance.objects.get(pk=body["id"])
    assert (vm.host, str(vm.uuid), vm.name, vm.state) == (small, NEW_UUID, "imported", "shutoff")
    assert response["Location"].endswith(f"/api/instances/{vm.pk}/")
    defined = etree.fromstring(domains(small)["imported"])
    assert defined.findtext("uuid") == NEW_UUID and defined.findtext("memory") == str(256 * 1024)


def test_it_lets_libvirt_choose_the_uuid_when_none_is_given(api, small):
    response = api.post(URL, {"host": small.pk, "xml": domain_xml(uuid=None)}, format="json")
    assert response.status_code == 201, response.content
    assert etree.fromstring(domains(small)["imported"]).findtext("uuid") == response.json()["uuid"]


@pytest.mark.parametrize(("xml", "expected"), [
    (domain_xml(name="web1"), "A domain named 'web1' with UUID 11111111-1111-4111-8111-111111111111 already exists"),
    (domain_xml(uuid=WEB1), "A domain named 'web1' with UUID 11111111-1111-4111-8111-111111111111 already exists"),
    (domain_xml(name="a/b"), "cannot contain '/'"),
    (domain_xml(name="..x"), "cannot contain '..'"),
    (domain_xml(name=""), "A name is required"),
    (domain_xml(uuid="not-a-uuid"), "Invalid UUID"),
    (domain_xml().replace("<vcpu>", "<bogus/><vcpu>"), "failed to validate against schema"),
    (domain_xml().replace("<vcpu>1<", "<vcpu>-3<"), "vcpu"),
], ids=["same name", "same uuid", "slash", "dot dot", "no name", "bad uuid", "schema", "negative vcpus"])
def test_it_refuses_duplicates_and_invalid_definitions_and_defines_nothing(api, small, xml, expected):
    before = domains(small)
    response = api.post(URL, {"host": small.pk, "xml": xml}, format="json")
    assert response.status_code == 400, response.content
    assert expected in response.json()["xml"][0]
    assert domains(small) == before
    assert Instance.objects.filter(host=small).count() == 3


@pytest.mark.parametrize("xml", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_refuses_hostile_xml_without_expanding_it(api, small, xml):
    before = domains(small)
    response = api.post(URL, {"host": small.pk, "xml": xml}, format="json")
    assert response.status_code == 400 and "xml" in response.json()
    assert "root:" not in response.content.decode() and "lollol" not in response.content.decode()
    assert domains(small) == before


@pytest.mark.parametrize("host", ["", "abc", "999", None, "-1"])
def test_it_names_a_missing_or_unknown_host(api, small, host):
    response = api.post(URL, {"host": host, "xml": domain_xml()}, format="json")
    assert response.status_code == 400 and "host" in response.json()
    assert "imported" not in domains(small)


def test_it_needs_login_and_post(client, api, small):
    assert client.post(URL, {"host": small.pk, "xml": domain_xml()}).status_code == 401
    assert api.get(URL).status_code == 405
    assert "imported" not in domains(small)
