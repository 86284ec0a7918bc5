"""GET/PUT /api/instances/<id>/xml/ on libvirt's test driver; every result read back through libvirt itself
(the raw API on the same connection: a test-driver node is private to its connection)."""
import libvirt
import pytest
from django.test import Client
from lxml import etree

from hosts.connection import call
from instances.models import Instance
from instances.xml_edit import MAX_XML_BYTES

pytestmark = pytest.mark.django_db
WEB1 = "11111111-1111-4111-8111-111111111111"  # running, a disk and a NIC
DB1 = "22222222-2222-4222-8222-222222222222"  # shut off
INACTIVE, SECURE = libvirt.VIR_DOMAIN_XML_INACTIVE, libvirt.VIR_DOMAIN_XML_SECURE
PASSWORD = "pw-Zq8#s3cret"


def url(vm):
    return f"/api/instances/{vm.pk}/xml/"


def libvirt_xml(vm, flags=INACTIVE):
    """The definition as libvirt has it, read without virtdeck."""
    return call(vm.host, lambda conn: conn.lookupByUUIDString(str(vm.uuid)).XMLDesc(flags))


def edited(xml, **changes):
    """`xml` with the text of top-level elements replaced: edited(xml, memory="524288")."""
    root = etree.fromstring(xml)
    for tag, text in changes.items():
        root.find(tag).text = text
    return etree.tostring(root, encoding="unicode")


def with_vnc_password(vm, password):
    """Give the VM a VNC password, out of band (plain libvirt)."""
    root = etree.fromstring(libvirt_xml(vm, INACTIVE | SECURE))
    devices = root.find("devices")
    for old in devices.findall("graphics"):
        devices.remove(old)
    etree.SubElement(devices, "graphics", type="vnc", port="-1", autoport="yes", passwd=password)
    call(vm.host, lambda conn: conn.defineXML(etree.tostring(root, encoding="unicode")))


@pytest.fixture
def db1(make_host):
    make_host("small")
    return Instance.objects.get(uuid=DB1)


@pytest.fixture
def web1(make_host):
    make_host("small")
    return Instance.objects.get(uuid=WEB1)


def test_it_returns_the_inactive_definition_without_the_password(api, db1):
    with_vnc_password(db1, PASSWORD)
    response = api.get(url(db1))
    assert response.status_code == 200
    assert response.json()["xml"] == libvirt_xml(db1)
    assert response.json()["running"] is False and response.json()["next_boot"] == []
    assert PASSWORD not in response.content.decode() and "passwd" not in response.content.decode()
    assert f"passwd='{PASSWORD}'" in libvirt_xml(db1, INACTIVE | SECURE)  # it is there, only not shown


def test_it_saves_an_edit_validated_by_libvirt_and_answers_the_diff(api, db1):
    xml = api.get(url(db1)).json()["xml"]
    response = api.put(url(db1), {"xml": edited(xml, memory="524288", currentMemory="524288")}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is True and body["running"] is False and body["next_boot"] == []
    assert body["changes"] == [{"part": "memory", "change": "changed"}, {"part": "currentMemory", "change": "changed"}]
    assert '-  <memory unit="KiB">1048576</memory>' in body["diff"]
    assert '+  <memory unit="KiB">524288</memory>' in body["diff"]
    saved = etree.fromstring(libvirt_xml(db1))
    assert saved.findtext("memory") == "524288" and body["xml"] == libvirt_xml(db1)
    db1.refresh_from_db()
    assert db1.max_memory_kib == 524288  # the row was re-read from the host


def test_it_changes_nothing_on_a_dry_run(api, db1):
    before = libvirt_xml(db1, INACTIVE | SECURE)
    response = api.put(url(db1), {"xml": edited(before, vcpu="2"), "dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is False and body["changes"] == [{"part": "vcpu", "change": "changed"}]
    assert '+  <vcpu placement="static">2</vcpu>' in body["diff"]
    assert libvirt_xml(db1, INACTIVE | SECURE) == before


def test_it_answers_libvirts_validation_message_and_changes_nothing(api, db1):
    before = libvirt_xml(db1)
    bad = before.replace("<vcpu", "<bogus/><vcpu")
    response = api.put(url(db1), {"xml": bad}, format="json")
    assert response.status_code == 400
    message = response.json()["xml"][0]
    assert "failed to validate against schema" in message and "bogus" in message
    assert libvirt_xml(db1) == before


def test_it_names_what_a_running_vm_gets_only_at_its_next_boot(api, web1):
    live_before = libvirt_xml(web1, 0)
    xml = api.get(url(web1)).json()["xml"]
    for dry_run in (True, False):
        response = api.put(url(web1), {"xml": edited(xml, vcpu="4"), "dry_run": dry_run}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["running"] is True and body["next_boot"] == [{"part": "vcpu", "change": "changed"}]
    assert etree.fromstring(libvirt_xml(web1)).findtext("vcpu") == "4"
    assert libvirt_xml(web1, 0) == live_before  # the running VM is untouched: the two definitions differ now
    got = api.get(url(web1)).json()
    assert got["running"] is True and got["next_boot"] == [{"part": "vcpu", "change": "changed"}]


def test_it_keeps_the_password_when_an_edit_leaves_it_out(api, db1):
    with_vnc_password(db1, PASSWORD)
    xml = api.get(url(db1)).json()["xml"]
    response = api.put(url(db1), {"xml": edited(xml, vcpu="2")}, format="json")
    assert response.status_code == 200, response.content
    assert PASSWORD not in response.content.decode() and "passwd" not in response.content.decode()
    secure = etree.fromstring(libvirt_xml(db1, INACTIVE | SECURE))
    assert secure.find("devices/graphics").get("passwd") == PASSWORD and secure.findtext("vcpu") == "2"


def test_it_sets_a_password_given_in_the_xml_without_echoing_it(api, db1):
    with_vnc_password(db1, PASSWORD)
    root = etree.fromstring(api.get(url(db1)).json()["xml"])
    root.find("devices/graphics").set("passwd", "brand-new-pw")
    for dry_run in (True, False):
        response = api.put(url(db1), {"xml": etree.tostring(root, encoding="unicode"), "dry_run": dry_run},
                           format="json")
        assert response.status_code == 200, response.content
        assert "brand-new-pw" not in response.content.decode() and PASSWORD not in response.content.decode()
        assert response.json()["changes"] == [{"part": "graphics vnc", "change": "changed"}]
    secure = etree.fromstring(libvirt_xml(db1, INACTIVE | SECURE))
    assert secure.find("devices/graphics").get("passwd") == "brand-new-pw"


def test_it_fills_in_a_left_out_uuid(api, db1):
    root = etree.fromstring(libvirt_xml(db1))
    root.remove(root.find("uuid"))
    root.find("vcpu").text = "3"
    response = api.put(url(db1), {"xml": etree.tostring(root, encoding="unicode")}, format="json")
    assert response.status_code == 200, response.content
    assert etree.fromstring(libvirt_xml(db1)).findtext("vcpu") == "3"


@pytest.mark.parametrize(("change", "expected"), [
    ({"uuid": "22222222-2222-4222-8222-999999999999"}, "The UUID cannot be changed"),
    ({"uuid": "not-a-uuid"}, "is not a valid UUID"),
    ({"uuid": WEB1}, "The UUID cannot be changed"),
    ({"name": "db2"}, "The name cannot be changed"),
    ({"name": "web1"}, "The name cannot be changed"),
])
def test_it_refuses_an_edit_that_would_touch_another_vm(api, make_host, change, expected):
    make_host("small")
    db1, web1 = Instance.objects.get(uuid=DB1), Instance.objects.get(uuid=WEB1)
    before = libvirt_xml(db1), libvirt_xml(web1)
    response = api.put(url(db1), {"xml": edited(before[0], **change)}, format="json")
    assert response.status_code == 400
    assert expected in response.json()["xml"][0]
    assert (libvirt_xml(db1), libvirt_xml(web1)) == before


HOSTILE = {
    "external entity": ('<?xml version="1.0"?><!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        "<domain type='test'><name>&x;</name></domain>"),
    "billion laughs": ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                                 for i in range(1, 10))
                       + "]><domain type='test'><name>&lol9;</name></domain>"),
    "parameter entity": ('<!DOCTYPE domain [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
                         "<domain type='test'/>"),
    "malformed": "<domain type='test'><name>x</name>",
    "not a domain": "<network><name>x</name></network>",
    "namespaced domain": "<d:domain xmlns:d='urn:x' type='test'><d:name>x</d:name></d:domain>",
    "empty": " ",
    "deep nesting": "<domain type='test'>" + "<a>" * 5000 + "</a>" * 5000 + "</domain>",
    "oversized": "<domain type='test'><description>" + "x" * MAX_XML_BYTES + "</description></domain>",
    "text only": "just text",
}


@pytest.mark.parametrize("xml", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_refuses_hostile_and_malformed_xml_without_expanding_it(api, db1, xml):
    before = libvirt_xml(db1, INACTIVE | SECURE)
    for dry_run in (True, False):
        response = api.put(url(db1), {"xml": xml, "dry_run": dry_run}, format="json")
        assert response.status_code == 400, response.content
        assert "xml" in response.json()
        assert "root:" not in response.content.decode() and "lollol" not in response.content.decode()
    assert libvirt_xml(db1, INACTIVE | SECURE) == before


def test_it_says_which_field_is_missing(api, db1):
    response = api.put(url(db1), {"dry_run": True}, format="json")
    assert response.status_code == 400 and "xml" in response.json()
    response = api.put(url(db1), {"xml": libvirt_xml(db1), "dry_run": "perhaps"}, format="json")
    assert response.status_code == 400 and "dry_run" in response.json()


def test_it_needs_login_and_a_csrf_token_with_a_session(client, admin_user, db1):
    before = libvirt_xml(db1)
    assert client.get(url(db1)).status_code == 401
    assert client.put(url(db1), {"xml": before}, content_type="application/json").status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.get(url(db1)).status_code == 200
    response = strict.put(url(db1), {"xml": edited(before, vcpu="2")}, content_type="application/json")
    assert response.status_code == 403
    assert libvirt_xml(db1) == before


def test_it_answers_404_for_missing_vms_and_405_for_other_methods(api, db1):
    assert api.get(f"/api/instances/{db1.pk + 1000}/xml/").status_code == 404
    assert api.get("/api/instances/abc/xml/").status_code == 404
    assert api.get(f"/api/instances/{'9' * 30}/xml/").status_code == 404
    assert api.post(url(db1), {"xml": "<domain/>"}, format="json").status_code == 405
    assert api.delete(url(db1)).status_code == 405


@pytest.mark.parametrize("body", ['{"xml": null}', '{"xml": 5}', '{"xml": ["<domain/>"]}', '{"xml": {"a": 1}}',
                                  '{"xml": "<domain>\\u0000</domain>"}', '{"xml": "<domain>\\ud800</domain>"}'],
                         ids=["null", "number", "list", "object", "nul", "lone surrogate"])
def test_it_refuses_xml_that_is_not_text(api, db1, body):
    before = libvirt_xml(db1)
    response = api.put(url(db1), body, content_type="application/json")
    assert response.status_code == 400 and "xml" in response.json()
    assert libvirt_xml(db1) == before


def test_it_answers_503_when_the_host_is_down(api, db1):
    from hosts.models import Host

    Host.objects.filter(pk=db1.host.pk).update(uri="qemu+tcp://127.0.0.1:1/system")
    db1.refresh_from_db()
    assert api.get(url(db1)).status_code == 503
    response = api.put(url(db1), {"xml": "<domain type='test'><name>db1</name></domain>"}, format="json")
    assert response.status_code == 503 and response.json()["detail"]


def test_it_refuses_an_edit_started_from_a_definition_changed_meanwhile(api, db1):
    import hashlib

    got = api.get(url(db1)).json()
    assert got["digest"] == hashlib.sha256(got["xml"].encode()).hexdigest()
    other_edit = edited(libvirt_xml(db1, INACTIVE | SECURE), vcpu="3")
    call(db1.host, lambda conn: conn.defineXML(other_edit))  # someone else, meanwhile
    changed = libvirt_xml(db1, INACTIVE | SECURE)
    for dry_run in (True, False):
        response = api.put(url(db1), {"xml": edited(got["xml"], memory="524288"), "digest": got["digest"],
                                      "dry_run": dry_run}, format="json")
        assert response.status_code == 409 and "changed on its host since you read it" in response.json()["detail"]
    assert libvirt_xml(db1, INACTIVE | SECURE) == changed

    fresh = api.get(url(db1)).json()
    review = api.put(url(db1), {"xml": edited(fresh["xml"], memory="524288"), "digest": fresh["digest"],
                                "dry_run": True}, format="json").json()
    assert review["digest"] == fresh["digest"]  # a dry run answers the digest to save with
    saved = api.put(url(db1), {"xml": edited(fresh["xml"], memory="524288"), "digest": review["digest"]},
                    format="json")
    assert saved.status_code == 200 and saved.json()["digest"] == api.get(url(db1)).json()["digest"]
    assert api.put(url(db1), {"xml": fresh["xml"], "digest": "abc"}, format="json").json().keys() == {"digest"}
