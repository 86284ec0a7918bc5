"""The hardware page's vCPU/memory and add-NIC forms show their virsh lines for the values typed (GET
<the form's action>?commands=1); asking changes nothing, and the VNC password is never in a line."""
import html

import pytest
from lxml import etree

from instances.models import Instance
from instances.tests.test_hardware_views import db1, page, saved  # noqa: F401 (db1: a fixture)

pytestmark = pytest.mark.django_db


def preview(admin_client, vm, change, **fields):
    response = admin_client.get(page(vm) + f"{change}/", {"commands": "1", **fields})
    assert response.status_code == 200
    return response.content.decode()


def test_it_has_a_preview_in_each_form(admin_client, db1):  # noqa: F811
    body = admin_client.get(page(db1)).content.decode()
    assert 'id="commands-counts"' in body and 'id="commands-nic-add"' in body
    assert f'hx-get="{page(db1)}config/?commands=1"' in body and f'hx-get="{page(db1)}nic-add/?commands=1"' in body


def test_it_shows_setvcpus_and_setmem_for_the_counts(admin_client, db1):  # noqa: F811
    before = etree.tostring(saved(db1))
    body = preview(admin_client, db1, "config", vcpus="2", max_vcpus="4", memory_mib="512", max_memory_mib="1024",
                   vnc_password="s3cret!")
    uri = db1.host.uri
    where = "--live --config" if db1.state == "running" else "--config"
    for line in (f"virsh -c {uri} setvcpus db1 4 --maximum --config", f"virsh -c {uri} setvcpus db1 2 {where}",
                 f"virsh -c {uri} setmaxmem db1 1048576K --config", f"virsh -c {uri} setmem db1 524288K {where}"):
        assert f'data-copy-command="{html.escape(line)}"' in body, line
    assert "s3cret" not in body
    assert etree.tostring(saved(db1)) == before  # nothing changed


def test_it_shows_attach_interface_for_the_new_nic(admin_client, db1):  # noqa: F811
    body = preview(admin_client, db1, "nic-add", type="bridge", source="br0;x", model="e1000",
                   mac="52:54:00:aa:bb:cc", affect="config")
    line = f"virsh -c {db1.host.uri} attach-interface db1 bridge 'br0;x' --model e1000 --mac 52:54:00:aa:bb:cc --config"
    assert f'data-copy-command="{html.escape(line)}"' in body
    assert "data-command-hint" in preview(admin_client, db1, "nic-add", type="bogus", source="x")


def test_it_answers_only_previews_to_a_get(admin_client, db1):  # noqa: F811
    assert admin_client.get(page(db1) + "config/").status_code == 405
    assert admin_client.get(page(db1) + "disk-detach/vda/", {"commands": "1"}).status_code == 405


def test_it_refuses_a_member_without_the_vm(client, member, db1):  # noqa: F811
    client.force_login(member)
    assert client.get(page(db1) + "config/", {"commands": "1", "vcpus": "2"}).status_code == 404
    assert Instance.objects.filter(pk=db1.pk).exists()


def test_it_shows_vol_create_as_and_attach_disk_for_a_new_volume(admin_client, db1):  # noqa: F811
    body = preview(admin_client, db1, "disk-attach", pool="images", name="new disk.qcow2", size_mib="8",
                   format="qcow2", allocation="thin", cache="none")
    uri = db1.host.uri
    for line in (f"virsh -c {uri} vol-create-as images 'new disk.qcow2' 8M --format qcow2 --allocation 0",
                 f"virsh -c {uri} attach-disk db1 '/var/lib/virtdeck-test/hw/new disk.qcow2' vdb --targetbus "
                 "virtio --driver qemu --subdriver qcow2 --cache none --config"):
        assert f'data-copy-command="{html.escape(line)}"' in body, line


def test_it_shows_attach_disk_for_an_existing_volume_on_the_next_free_target(admin_client, db1):  # noqa: F811
    body = preview(admin_client, db1, "disk-attach", pool="images", volume="spare.raw", bus="sata")
    line = f"virsh -c {db1.host.uri} attach-disk db1 /var/lib/virtdeck-test/hw/spare.raw sda --targetbus sata " \
           "--driver qemu --subdriver raw --config"
    assert f'data-copy-command="{html.escape(line)}"' in body  # sdc is the CD-ROM's: sda is free
    body = preview(admin_client, db1, "disk-attach", path="/var/lib/virtdeck-test/hw/debian-12.iso", device="cdrom")
    assert "--type cdrom --mode readonly" in body and "sda" in body
    refused = preview(admin_client, db1, "disk-attach", path="/etc/shadow")
    assert "data-command-hint" in refused and "attach-disk" not in refused
    refused = preview(admin_client, db1, "disk-attach", pool="images", volume="spare.raw", target="vda")
    assert "data-command-hint" in refused and "attach-disk" not in refused  # vda is taken
