"""The XML editor and create-from-XML on real QEMU guests (the lab's libvirtd, TCG), through the API;
every result read back through libvirt on a connection of its own (lab_guests.conn), not through virtdeck."""
import uuid

import libvirt
import pytest
from lxml import etree

from instances.models import Instance
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
INACTIVE, SECURE = libvirt.VIR_DOMAIN_XML_INACTIVE, libvirt.VIR_DOMAIN_XML_SECURE


def row(lab_host, dom):
    from hosts.sync import sync_host

    sync_host(lab_host)  # guests defined out of band after the host was added
    return Instance.objects.get(host=lab_host, uuid=dom.UUIDString())


def with_memory(xml, mib):
    root = etree.fromstring(xml)
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        element.set("unit", "KiB")
        element.text = str(mib * 1024)
    return etree.tostring(root, encoding="unicode")


def test_it_edits_a_shut_off_vms_memory(api, lab_host, lab_guests):
    dom = lab_guests.define(start=False)
    vm = row(lab_host, dom)
    url = f"/api/instances/{vm.pk}/xml/"
    response = api.put(url, {"xml": with_memory(api.get(url).json()["xml"], 192)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"part": "memory", "change": "changed"} in body["changes"] and body["next_boot"] == []
    assert etree.fromstring(dom.XMLDesc(INACTIVE)).findtext("memory") == str(192 * 1024)
    vm.refresh_from_db()
    assert vm.max_memory_kib == 192 * 1024


def test_it_says_a_running_vm_gets_the_edit_at_its_next_boot(api, lab_host, lab_guests):
    dom = lab_guests.define(start=True)
    vm = row(lab_host, dom)
    url = f"/api/instances/{vm.pk}/xml/"
    got = api.get(url).json()
    assert got["running"] is True and got["next_boot"] == []  # nothing pending on a freshly started guest
    memory = [{"part": "memory", "change": "changed"}]  # currentMemory is the balloon's: not a next-boot part
    for dry_run in (True, False):
        response = api.put(url, {"xml": with_memory(got["xml"], 192), "dry_run": dry_run}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["running"] is True and response.json()["next_boot"] == memory
    assert api.get(url).json()["next_boot"] == memory
    assert etree.fromstring(dom.XMLDesc(0)).findtext("memory") == str(256 * 1024)  # still running as it was
    assert etree.fromstring(dom.XMLDesc(INACTIVE)).findtext("memory") == str(192 * 1024)
    dom.destroy()
    dom.create()  # the next boot uses the edited definition
    assert etree.fromstring(dom.XMLDesc(0)).findtext("memory") == str(192 * 1024)
    assert api.get(url).json()["next_boot"] == []


def test_it_keeps_a_real_vms_vnc_password(api, lab_host, lab_guests):
    dom = lab_guests.define(start=False)
    root = etree.fromstring(dom.XMLDesc(INACTIVE))
    root.find("devices/graphics").set("passwd", "labvncpw")  # QEMU: at most 8 characters for VNC
    lab_guests.conn.defineXML(etree.tostring(root, encoding="unicode"))
    vm = row(lab_host, dom)
    url = f"/api/instances/{vm.pk}/xml/"
    got = api.get(url)
    assert "labvncpw" not in got.content.decode()
    response = api.put(url, {"xml": with_memory(got.json()["xml"], 128)}, format="json")
    assert response.status_code == 200 and "labvncpw" not in response.content.decode()
    secure = etree.fromstring(dom.XMLDesc(INACTIVE | SECURE))
    assert secure.find("devices/graphics").get("passwd") == "labvncpw"
    assert secure.findtext("memory") == str(128 * 1024)


@pytest.fixture
def new_name(lab_guests):
    """A fresh guest name; whatever a test defines under it is removed afterwards."""
    name = f"vd-test-xml-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        lab_guests.conn.lookupByName(name).undefine()
    except libvirt.libvirtError:
        pass  # never defined


def test_it_creates_a_vm_from_xml_that_boots(api, lab_host, lab_guests, new_name, tmp_path):
    xml = guest.domain_xml(new_name, guest.make_disk(tmp_path, new_name))
    response = api.post("/api/instances/from-xml/", {"host": lab_host.pk, "xml": xml}, format="json")
    assert response.status_code == 201, response.content
    dom = lab_guests.conn.lookupByName(new_name)
    assert response.json()["uuid"] == dom.UUIDString() and response.json()["state"] == "shutoff"
    dom.create()
    try:
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        dom.destroy()
    again = api.post("/api/instances/from-xml/", {"host": lab_host.pk, "xml": xml}, format="json")
    assert again.status_code == 400 and "already exists" in again.json()["xml"][0]


@pytest.mark.parametrize("kind", ["xen", "lxc"])
def test_it_answers_libvirts_message_for_a_domain_type_the_host_does_not_offer(api, lab_host, lab_guests, new_name,
                                                                                tmp_path, kind):
    root = etree.fromstring(guest.domain_xml(new_name, tmp_path / "none.qcow2"))
    root.set("type", kind)
    xml = etree.tostring(root, encoding="unicode")
    response = api.post("/api/instances/from-xml/", {"host": lab_host.pk, "xml": xml}, format="json")
    assert response.status_code == 400
    assert f"does not support virt type '{kind}'" in response.json()["xml"][0]
    assert new_name not in [d.name() for d in lab_guests.conn.listAllDomains()]
