"""Deleting a VM: DELETE /api/instances/{id}/ (?delete_volumes=true) and the typed-name page, on libvirt's
test driver (core/testing/nodes/deletion.xml); the images read back through the host's storage pools."""
import pytest
from django.urls import reverse

from core.testing.views import DeleteViewTests
from hosts.connection import call
from instances.models import Instance
from instances.tests.jobs import run_queued
from virt.domain_delete import owned_disks

pytestmark = pytest.mark.django_db
IMAGES = "/var/lib/vd-delete/images"
ISO = "/var/lib/vd-delete/iso/install.iso"


def volume_paths(host):
    """Every volume path of the host's pools, listed by libvirt."""
    def listing(conn):
        return {vol.path() for pool in conn.listAllStoragePools(0) for vol in pool.listAllVolumes(0)}
    return call(host, listing)


def domain_names(host):
    return call(host, lambda conn: {dom.name() for dom in conn.listAllDomains(0)})


@pytest.fixture
def host(make_host):
    return make_host("deletion")


@pytest.fixture
def doomed(host):
    return Instance.objects.get(name="doomed")


def test_it_deletes_the_definition_and_keeps_the_images_by_default(api, host, doomed):
    before = volume_paths(host)
    response = api.delete(f"/api/instances/{doomed.pk}/")
    assert response.status_code == 200 and response.json() == {"deleted": [], "left": []}
    assert "doomed" not in domain_names(host) and not Instance.objects.filter(pk=doomed.pk).exists()
    assert volume_paths(host) == before


def test_it_deletes_its_own_images_and_says_which_it_left(api, host, doomed):
    response = api.delete(f"/api/instances/{doomed.pk}/?delete_volumes=true")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "deleted": [f"{IMAGES}/doomed.qcow2"],
        "left": [{"path": "/srv/elsewhere/data.raw", "reason": "not_in_pool"},
                 {"path": f"{IMAGES}/shared.qcow2", "reason": "used_by_another_vm", "vm": "neighbor"}],
    }
    assert volume_paths(host) == {f"{IMAGES}/shared.qcow2", f"{IMAGES}/busy.qcow2", ISO}  # the ISO is media
    assert domain_names(host) == {"neighbor", "busy"} and not Instance.objects.filter(pk=doomed.pk).exists()


def test_it_refuses_to_delete_a_running_vm(api, host):
    busy = Instance.objects.get(name="busy")
    response = api.delete(f"/api/instances/{busy.pk}/?delete_volumes=true")
    assert response.status_code == 409 and "running" in response.json()["detail"]
    assert "busy" in domain_names(host) and f"{IMAGES}/busy.qcow2" in volume_paths(host)


@pytest.mark.parametrize("value", ["maybe", "2", "true;rm", "%E2%80%AEtrue", "%00"])
def test_it_refuses_a_malformed_flag_and_deletes_nothing(api, host, doomed, value):
    response = api.delete(f"/api/instances/{doomed.pk}/", QUERY_STRING=f"delete_volumes={value}")
    assert response.status_code == 400 and "delete_volumes" in response.json()
    assert "doomed" in domain_names(host) and f"{IMAGES}/doomed.qcow2" in volume_paths(host)


def test_it_removes_snapshot_metadata_with_the_definition(api, host, doomed):
    uuid = str(doomed.uuid)
    call(host, lambda conn: conn.lookupByUUIDString(uuid).snapshotCreateXML(
        "<domainsnapshot><name>before</name></domainsnapshot>", 0))
    assert api.delete(f"/api/instances/{doomed.pk}/").status_code == 200
    assert "doomed" not in domain_names(host)


class TestInstanceDeletePage(DeleteViewTests):
    url_name = "instances:instance_delete"

    @pytest.fixture
    def obj(self, doomed):
        return doomed


def test_it_deletes_the_images_when_the_box_is_ticked_and_says_what_it_left(admin_client, host, doomed):
    page = reverse("instances:instance_delete", args=[doomed.pk])
    content = admin_client.get(page).content.decode()
    assert 'name="delete_volumes"' in content and "UEFI variables" in content
    response = admin_client.post(page, {"name": "doomed", "delete_volumes": "on"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "doomed deleted.", f"Deleted: {IMAGES}/doomed.qcow2.",
        "/srv/elsewhere/data.raw is in no storage pool of the host, so libvirt cannot delete it: it was left.",
        f"{IMAGES}/shared.qcow2 is used by neighbor: it was left."]
    assert f"{IMAGES}/doomed.qcow2" not in volume_paths(host) and "doomed" not in domain_names(host)


def test_it_shows_a_refusal_on_the_delete_page(admin_client, host):
    busy = Instance.objects.get(name="busy")
    response = admin_client.post(reverse("instances:instance_delete", args=[busy.pk]), {"name": "busy"})
    assert response.status_code == 200 and "running" in response.content.decode()
    assert "busy" in domain_names(host)


SNAPSHOT = """<domainsnapshot><name>s1</name><state>disk-snapshot</state>
  <disks><disk name='vda' snapshot='external' type='file'><source file='/img/vm.s1'/></disk>
         <disk name='sda' snapshot='no'/></disks>
  <domain type='qemu'><name>vm</name><devices>
    <disk type='file' device='disk'><source file='/img/vm.qcow2'/><target dev='vda'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/os.iso'/><target dev='sda'/></disk>
  </devices></domain></domainsnapshot>"""
DOMAIN = """<domain type='qemu'><name>vm</name><devices>
  <disk type='file' device='disk'><source file='/img/vm.s1'/><backingStore type='file'>
    <source file='/golden/base.qcow2'/></backingStore><target dev='vda'/></disk>
  <disk type='volume' device='disk'><source pool='data' volume='vm-data'/><target dev='vdb'/></disk>
  <disk type='network' device='disk'><source protocol='rbd' name='rbd/vm'/><target dev='vdc'/></disk>
  <disk type='file' device='cdrom'><source file='/iso/os.iso'/><target dev='sda'/></disk>
</devices></domain>"""


def test_it_counts_external_overlays_and_frozen_images_as_the_vms_but_not_media_or_templates():
    owned = owned_disks([DOMAIN], [SNAPSHOT])
    assert owned == {"paths": {"/img/vm.s1", "/img/vm.qcow2"}, "volumes": {("data", "vm-data")},
                     "network": {"rbd:rbd/vm"}}


def test_it_deletes_a_saved_vm_with_its_saved_state(api, host):
    busy = Instance.objects.get(name="busy")
    assert run_queued(api.post(f"/api/instances/{busy.pk}/save/")).result["state"] == "shutoff"  # a job
    assert api.delete(f"/api/instances/{busy.pk}/").status_code == 200
    assert "busy" not in domain_names(host)
