"""The hardware page (/instances/{id}/hardware/) and its forms, on libvirt's test driver; results read back with
plain libvirt calls on the host's own connection."""
import libvirt
import pytest
from django.test import Client
from lxml import etree

from hosts.connection import call
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def db1(make_host):
    return Instance.objects.get(host=make_host("hardware"), name="db1")


def saved(vm):
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
    return etree.fromstring(call(vm.host, lambda conn: conn.lookupByName(vm.name).XMLDesc(flags)))


def page(vm):
    return f"/instances/{vm.pk}/hardware/"


def post(client, vm, change, data, device=None):
    """POST a form and follow it back to the page; returns (the POST's response, [the messages shown])."""
    path = page(vm) + f"{change}/" + (f"{device}/" if device else "")
    response = client.post(path, data)
    shown = client.get(response["Location"]) if response.status_code == 302 else None
    return response, [str(message) for message in shown.context["messages"]] if shown else []


def test_it_shows_the_hardware_without_the_vnc_password(admin_client, db1):
    response = admin_client.get(page(db1))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-target="vda"' in html and 'data-target="sdc"' in html and 'data-mac="52:54:00:6e:00:02"' in html
    assert "db1pass" not in html and "passwd" not in html
    assert "The VM is shut off" in html


def test_it_is_linked_from_the_vm_page(admin_client, db1):
    assert page(db1) in admin_client.get(f"/instances/{db1.pk}/").content.decode()


def test_it_changes_vcpus_and_memory_and_says_when_they_apply(admin_client, db1):
    response, texts = post(admin_client, db1, "config", {"vcpus": "1", "max_vcpus": "2", "memory_mib": "768",
                                                         "max_memory_mib": "1024"})

    assert response.status_code == 302 and response["Location"] == page(db1)
    # The form sends every field; only those that differ are changed and named (db1 has 1 vCPU and 1024 MiB).
    assert texts == ["Changed: max_vcpus: at the next boot; memory_mib: at the next boot."]
    root = saved(db1)
    assert root.findtext("vcpu") == "2" and root.findtext("currentMemory") == str(768 * 1024)

    _response, again = post(admin_client, db1, "config", {"vcpus": "1", "max_vcpus": "2", "memory_mib": "768",
                                                          "max_memory_mib": "1024"})
    assert again == ["Nothing to change."]


def test_it_refuses_a_bad_value_naming_the_field_and_changes_nothing(admin_client, db1):
    before = etree.tostring(saved(db1))

    _response, texts = post(admin_client, db1, "config", {"vcpus": "9", "max_vcpus": "9"})
    _response, more = post(admin_client, db1, "config", {"memory_mib": "-1"})

    assert len(texts) == 1 and texts[0].startswith("Not changed: vcpus:") and "4 CPUs" in texts[0]
    assert more[0].startswith("Not changed: memory_mib:")
    assert etree.tostring(saved(db1)) == before


def test_it_sets_the_boot_order_from_several_selects(admin_client, db1):
    _response, texts = post(admin_client, db1, "config", {"boot": ["network", "hd", "", ""]})

    assert texts == ["Changed: boot: at the next boot."]
    assert saved(db1).xpath("os/boot/@dev") == ["network", "hd"]


def test_it_sets_a_vnc_password_the_page_never_shows(admin_client, db1):
    _response, texts = post(admin_client, db1, "config", {"vnc_password": "zz9plur", "vnc_listen": ""})

    assert texts == ["Changed: vnc_password: at the next boot."]
    assert saved(db1).find("devices/graphics").get("passwd") == "zz9plur"
    assert "zz9plur" not in admin_client.get(page(db1)).content.decode()


def test_it_inserts_and_ejects_media_and_pulls_a_nic_cable(admin_client, db1):
    post(admin_client, db1, "media-insert", {"pool": "images", "volume": "debian-12.iso"}, "sdc")
    assert saved(db1).xpath("devices/disk[target/@dev='sdc']/source/@file") == [
        "/var/lib/virtdeck-test/hw/debian-12.iso"]
    post(admin_client, db1, "media-eject", {}, "sdc")
    assert saved(db1).xpath("devices/disk[target/@dev='sdc']/source") == []

    _response, texts = post(admin_client, db1, "nic-update", {"link_up": "false", "model": "virtio"},
                            "52:54:00:6e:00:02")
    assert texts == ["Changed: link_up: at the next boot; model: at the next boot."]
    assert saved(db1).xpath("devices/interface/link/@state") == ["down"]


def test_it_shows_libvirts_refusal_and_removes_the_volume_it_made(admin_client, db1):
    _response, texts = post(admin_client, db1, "disk-attach", {"pool": "images", "name": "new.qcow2", "size_mib": "8",
                                                               "format": "qcow2", "cache": "default"})

    assert texts[0].startswith("Not changed:") and "not supported" in texts[0]
    assert "new.qcow2" not in call(db1.host, lambda conn: conn.storagePoolLookupByName("images").listVolumes())


def test_it_answers_404_for_an_unknown_change(admin_client, db1):
    assert admin_client.post(page(db1) + "explode/").status_code == 404
    assert admin_client.get(page(db1) + "config/").status_code == 405


def test_it_needs_the_csrf_token(admin_user, db1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(page(db1) + "config/", {"vcpus": "1"}).status_code == 403


def test_it_never_logs_or_echoes_a_vnc_password(admin_client, api, db1, caplog):
    caplog.set_level("DEBUG")

    post(admin_client, db1, "config", {"vnc_password": "toolongpass"})  # refused: more than 8 characters
    post(admin_client, db1, "config", {"vnc_password": "okpass1"})
    refused = api.patch(f"/api/instances/{db1.pk}/config/", {"vnc_password": "bad\u0007pw"}, format="json")
    accepted = api.patch(f"/api/instances/{db1.pk}/config/", {"vnc_password": "okpass2"}, format="json")

    assert refused.status_code == 400 and accepted.status_code == 200
    for secret in ("toolongpass", "okpass1", "bad\u0007pw", "okpass2"):
        assert secret not in caplog.text
        assert secret not in refused.content.decode() + accepted.content.decode()
        assert secret not in admin_client.get(page(db1)).content.decode()
    assert saved(db1).find("devices/graphics").get("passwd") == "okpass2"

