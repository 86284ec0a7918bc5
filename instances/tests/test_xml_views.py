"""The XML editor page and the create-from-XML page on libvirt's test driver, read back through libvirt."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from lxml import etree

from instances.models import Instance

from .test_from_xml_api import NEW_UUID, domain_xml, domains
from .test_xml_api import DB1, HOSTILE, INACTIVE, PASSWORD, SECURE, WEB1, edited, libvirt_xml, with_vnc_password

pytestmark = pytest.mark.django_db
FROM_XML = "/instances/from-xml/"


def page(vm):
    return f"/instances/{vm.pk}/xml/"


@pytest.fixture
def db1(make_host):
    make_host("small")
    return Instance.objects.get(uuid=DB1)


def test_it_shows_the_definition_in_an_editor_without_the_password(admin_client, db1):
    with_vnc_password(db1, PASSWORD)
    response = admin_client.get(page(db1))
    assert response.status_code == 200
    assert response.context["form"]["xml"].value() == libvirt_xml(db1)
    content = response.content.decode()
    assert "data-xml-editor" in content and "vendor/codemirror/codemirror.js" in content
    assert PASSWORD not in content and "passwd=" not in content
    assert 'name="save"' not in content  # Save comes after a review


def test_it_reviews_an_edit_without_changing_anything(admin_client, db1):
    before = libvirt_xml(db1, INACTIVE | SECURE)
    response = admin_client.post(page(db1), {"xml": edited(before, vcpu="2"), "review": "1"})
    assert response.status_code == 200
    review = response.context["review"]
    assert review.changes == [{"part": "vcpu", "change": "changed"}] and not review.applied
    content = response.content.decode()
    assert 'id="xml-diff"' in content and "+  &lt;vcpu placement=&quot;static&quot;&gt;2&lt;/vcpu&gt;" in content
    assert 'name="save"' in content
    assert libvirt_xml(db1, INACTIVE | SECURE) == before


def test_it_saves_and_says_what_a_running_vm_gets_at_its_next_boot(admin_client, make_host):
    make_host("small")
    web1 = Instance.objects.get(uuid=WEB1)
    live_before = libvirt_xml(web1, 0)
    xml = edited(libvirt_xml(web1), memory="262144", currentMemory="262144")
    review = admin_client.post(page(web1), {"xml": xml, "review": "1"})
    assert 'id="next-boot-note"' in review.content.decode()
    response = admin_client.post(page(web1), {"xml": xml, "save": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == page(web1)
    shown = [str(m) for m in response.context["messages"]]
    assert any("Changed: memory, currentMemory" in m for m in shown)
    assert any("at its next boot" in m and "memory" in m for m in shown)
    assert etree.fromstring(libvirt_xml(web1)).findtext("memory") == "262144"
    assert libvirt_xml(web1, 0) == live_before
    assert "memory" in response.content.decode().split('id="pending-next-boot"')[1].split("</div>")[0]


def test_it_shows_libvirts_message_and_keeps_the_edit(admin_client, db1):
    before = libvirt_xml(db1)
    bad = before.replace("<vcpu", "<bogus/><vcpu")
    response = admin_client.post(page(db1), {"xml": bad, "save": "1"})
    assert response.status_code == 200
    assert "failed to validate against schema" in response.context["form"].errors["xml"][0]
    assert response.context["form"]["xml"].value() == bad
    assert libvirt_xml(db1) == before


@pytest.mark.parametrize("xml", [HOSTILE["external entity"], HOSTILE["billion laughs"], HOSTILE["malformed"]],
                         ids=["external entity", "billion laughs", "malformed"])
def test_it_refuses_hostile_xml_on_the_page(admin_client, db1, xml):
    before = libvirt_xml(db1, INACTIVE | SECURE)
    for button in ("review", "save"):
        response = admin_client.post(page(db1), {"xml": xml, button: "1"})
        assert response.status_code == 200 and response.context["form"].errors["xml"]
    assert libvirt_xml(db1, INACTIVE | SECURE) == before


def test_it_needs_a_csrf_token(admin_user, db1):
    before = libvirt_xml(db1)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(page(db1), {"xml": edited(before, vcpu="2"), "save": "1"}).status_code == 403
    assert libvirt_xml(db1) == before


def test_it_links_the_editor_from_the_vm_and_create_from_the_list(admin_client, db1):
    assert page(db1) in admin_client.get(db1.get_absolute_url()).content.decode()
    assert FROM_XML in admin_client.get("/instances/").content.decode()


def test_it_creates_a_vm_from_pasted_xml(admin_client, make_host):
    small = make_host("small")
    response = admin_client.post(FROM_XML, {"host": small.pk, "xml": domain_xml()})
    vm = Instance.objects.get(uuid=NEW_UUID)
    assert response.status_code == 302 and response["Location"] == vm.get_absolute_url()
    assert etree.fromstring(domains(small)["imported"]).findtext("uuid") == NEW_UUID


def test_it_creates_a_vm_from_an_uploaded_file(admin_client, make_host):
    small = make_host("small")
    upload = SimpleUploadedFile("vm.xml", domain_xml().encode(), content_type="text/xml")
    response = admin_client.post(FROM_XML, {"host": small.pk, "file": upload})
    assert response.status_code == 302
    assert "imported" in domains(small) and Instance.objects.filter(name="imported", host=small).exists()


@pytest.mark.parametrize(("data", "field", "expected"), [
    ({"xml": domain_xml(name="web1")}, "xml", "already exists"),
    ({"xml": ""}, "xml", "Paste the domain XML or upload a file"),
    ({"xml": HOSTILE["external entity"]}, "xml", "DOCTYPE"),
    ({"file": b"\xff\xfe<domain/>"}, "file", "not UTF-8"),
    ({"file": b"<domain><name>x" + b" " * (600 * 1024) + b"</name></domain>"}, "file", "at most"),
    ({"file": domain_xml(name="web1").encode()}, "file", "already exists"),
], ids=["duplicate", "nothing", "entity", "not utf-8", "oversized file", "duplicate file"])
def test_it_says_why_it_defines_nothing(admin_client, make_host, data, field, expected):
    small = make_host("small")
    before = domains(small)
    if "file" in data:
        data = {"file": SimpleUploadedFile("vm.xml", data["file"], content_type="text/xml")}
    response = admin_client.post(FROM_XML, {"host": small.pk, **data})
    assert response.status_code == 200
    assert expected in " ".join(response.context["form"].errors[field])
    assert domains(small) == before


def test_it_says_when_the_host_cannot_be_reached(admin_client, db1):
    from hosts.models import Host

    Host.objects.filter(pk=db1.host.pk).update(uri="qemu+tcp://127.0.0.1:1/system")
    response = admin_client.get(page(db1))
    assert response.status_code == 200 and response.context["read_error"]
    response = admin_client.post(page(db1), {"xml": "<domain type='test'><name>db1</name></domain>", "review": "1"})
    assert response.status_code == 200 and response.context["form"].non_field_errors()


def test_it_refuses_to_save_over_a_definition_changed_meanwhile(admin_client, db1):
    from hosts.connection import call

    form = admin_client.get(page(db1)).context["form"]
    opened_digest = form["digest"].value()
    other_edit = edited(libvirt_xml(db1, INACTIVE | SECURE), vcpu="3")
    call(db1.host, lambda conn: conn.defineXML(other_edit))  # someone else, meanwhile
    changed = libvirt_xml(db1, INACTIVE | SECURE)
    response = admin_client.post(page(db1), {"xml": edited(form["xml"].value(), memory="524288"),
                                             "digest": opened_digest, "save": "1"})
    assert "changed on its host since you read it" in " ".join(response.context["form"].non_field_errors())
    assert libvirt_xml(db1, INACTIVE | SECURE) == changed


def test_it_never_shows_a_typed_password_back(admin_client, db1):
    with_vnc_password(db1, PASSWORD)
    root = etree.fromstring(libvirt_xml(db1))
    root.find("devices/graphics").set("passwd", "typed-pw")
    root.find("vcpu").text = "2"
    for button in ("review", "save"):
        response = admin_client.post(page(db1), {"xml": etree.tostring(root, encoding="unicode"), button: "1"})
        assert response.status_code == 200 and "does not set passwords" in response.context["form"].errors["xml"][0]
        content = response.content.decode()
        assert "typed-pw" not in content and PASSWORD not in content
        assert "passwd" not in response.context["form"]["xml"].value()
    secure = etree.fromstring(libvirt_xml(db1, INACTIVE | SECURE))
    assert secure.find("devices/graphics").get("passwd") == PASSWORD and secure.findtext("vcpu") == "1"


def test_it_takes_a_password_out_of_a_refused_new_vm(admin_client, make_host):
    small = make_host("small")
    root = etree.fromstring(domain_xml(name="web1"))  # refused: web1 exists
    etree.SubElement(etree.SubElement(root, "devices"), "graphics", type="vnc", passwd="typed-pw")
    response = admin_client.post(FROM_XML, {"host": small.pk, "xml": etree.tostring(root, encoding="unicode")})
    assert response.status_code == 200 and "already exists" in response.context["form"].errors["xml"][0]
    assert "put it back" in " ".join(response.context["form"].non_field_errors())
    assert "typed-pw" not in response.content.decode()
