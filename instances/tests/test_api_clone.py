"""POST /api/instances/<id>/clone/ on libvirt's test driver: checks (400 naming the field, 409 while running) and
the clone's definition. The copy itself runs on a connection of its own (Pool.run_long), which the in-process
test driver serves from a private copy of the node: the copied volumes are checked on the lab
(test_lab_create.py), the definition here."""
import pytest

from core.models import Job
from hosts.connection import call
from instances.creation_tasks import clone_instance_task
from instances.models import Instance
from virt.xml.domain import DomainXML


@pytest.fixture
def host(make_host):
    return make_host("wizard")


def url(name):
    return f"/api/instances/{Instance.objects.get(name=name).pk}/clone/"


def domain_names(host):
    return sorted(call(host, lambda conn: [d.name() for d in conn.listAllDomains(0)]))


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"name": "a/b", "pool": "images"}, "name"),
    ({"name": "..", "pool": "images"}, "name"),
    ({"name": "busy", "pool": "images"}, "name"),
    ({"name": "copy", "pool": "nopool"}, "pool"),
    ({"name": "copy", "pool": "../images"}, "pool"),
    ({"name": "copy"}, "pool"),
    ({"pool": "images"}, "name"),
])
def test_it_refuses_bad_input_naming_the_field(api, host, body, field):
    response = api.post(url("existing"), body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert domain_names(host) == ["busy", "existing"] and not Job.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_target_volume_that_exists(api, host):
    call(host, lambda conn: conn.storagePoolLookupByName("images").createXML(
        "<volume><name>copy-vda.qcow2</name><capacity>1024</capacity><target><format type='qcow2'/></target>"
        "</volume>", 0))
    response = api.post(url("existing"), {"name": "copy", "pool": "images"}, format="json")
    assert response.status_code == 400 and "copy-vda.qcow2" in response.json()["pool"][0]


@pytest.mark.django_db
def test_it_refuses_a_running_vm_without_paused_copy(api, host):
    response = api.post(url("busy"), {"name": "copy", "pool": "images"}, format="json")
    assert response.status_code == 409 and "paused_copy" in response.json()["detail"]
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_defines_the_clone_with_a_new_name_uuid_mac_and_disk(api, host):
    response = api.post(url("existing"), {"name": "copy", "pool": "images"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.target_id) == ("clone_instance", str(Instance.objects.get(name="existing").pk))
    clone_instance_task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    xml = call(host, lambda conn: conn.lookupByName("copy").XMLDesc(0))
    clone = DomainXML.from_xml(xml, trusted=True)
    assert clone.uuid != "44444444-4444-4444-8444-444444444444"
    assert [d.source for d in clone.disks] == ["images/copy-vda.qcow2"]
    assert [n.mac for n in clone.interfaces] != ["52:54:00:00:00:44"] and clone.interfaces[0].source == "default"
    assert Instance.objects.get(pk=job.result["instance"]).name == "copy"


@pytest.mark.django_db(transaction=True)
def test_it_removes_its_copies_and_resumes_the_source_when_a_paused_copy_fails(api, host):
    """The test driver has no block copy (a running VM's disks are copied by QEMU): the job fails halfway,
    after pausing the source and making the destination volume."""
    response = api.post(url("busy"), {"name": "copy", "pool": "images", "paused_copy": True}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    clone_instance_task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "failed" and "virDomainBlockCopy" in job.error
    assert "removed: images/copy-vda.qcow2" in job.error
    assert any("paused" in entry["message"] for entry in job.log)
    assert call(host, lambda conn: conn.lookupByName("busy").state()[0]) == 1  # running again
    assert "copy-vda.qcow2" not in call(host, lambda conn: conn.storagePoolLookupByName("images").listVolumes())
    assert domain_names(host) == ["busy", "existing"]
