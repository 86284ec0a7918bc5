"""POST /api/instances/ on libvirt's test driver: the dry run's XML per install method, firmware and storage,
bad input (400 naming the field, nothing made), and the create job with its cleanup. Results are read back
through the host's own libvirt connection, not through virtdeck's rows."""
import pytest

from core.models import Job
from hosts.connection import call
from instances.creation_tasks import create_instance_task
from instances.models import Instance, InstanceTemplate
from virt.xml.domain import DomainXML

LIST = "/api/instances/"


@pytest.fixture
def host(make_host):
    return make_host("wizard")


def domain_names(host):
    return sorted(call(host, lambda conn: [d.name() for d in conn.listAllDomains(0)]))


def volume_names(host, pool="images"):
    return sorted(call(host, lambda conn: conn.storagePoolLookupByName(pool).listVolumes()))


def dry_run(api, host, **answers):
    response = api.post(LIST, {"host": host.pk, "name": "vm1", "dry_run": True, **answers}, format="json")
    assert response.status_code == 200, response.content
    return DomainXML.from_xml(response.json()["xml"])


@pytest.mark.django_db
class TestDryRun:
    def test_it_answers_the_xml_of_an_iso_install_and_makes_nothing(self, api, host):
        before = (domain_names(host), volume_names(host))
        domain = dry_run(api, host, install="iso", iso_volume="iso/debian-11.iso", os_variant="debian11",
                         disk_pool="images", disk_size_gib=8, network="default", memory_mib=512, vcpus=2)
        assert (domain.type, domain.name, domain.memory_kib, domain.vcpus) == ("test", "vm1", 512 * 1024, 2)
        assert [d.source for d in domain.disks] == ["images/vm1.qcow2", "iso/debian-11.iso"]
        assert [n.source for n in domain.interfaces] == ["default"]
        assert (domain_names(host), volume_names(host)) == before
        assert not Job.objects.exists()

    def test_it_imports_an_existing_volume_with_its_format_read_from_the_host(self, api, host):
        domain = dry_run(api, host, install="import", import_volume="images/appliance.qcow2")
        (disk,) = list(domain.disks)
        assert (disk.source, disk.format) == ("images/appliance.qcow2", "qcow2")

    def test_it_boots_pxe_from_the_network(self, api, host):
        assert dry_run(api, host, install="pxe", network="default").boot_devices == ["network"]

    def test_it_refuses_uefi_on_a_host_without_ovmf(self, api, host):
        response = api.post(LIST, {"host": host.pk, "name": "vm1", "firmware": "uefi", "dry_run": True},
                            format="json")
        assert response.status_code == 400 and "firmware" in response.json()

    def test_it_fills_the_answers_from_a_template_and_lets_fields_override_them(self, api, host):
        InstanceTemplate.objects.create(name="small-debian", answers={
            "os_variant": "debian11", "memory_mib": 300, "vcpus": 1, "disk_pool": "images", "disk_size_gib": 4})
        domain = dry_run(api, host, template="small-debian", vcpus=2)
        assert (domain.memory_kib, domain.vcpus) == (300 * 1024, 2)
        assert [d.source for d in domain.disks] == ["images/vm1.qcow2"]


@pytest.mark.django_db
@pytest.mark.parametrize(("answers", "field"), [
    ({"name": "a/b"}, "name"),
    ({"name": "existing"}, "name"),
    ({"vcpus": 5}, "vcpus"),
    ({"vcpus": 10**9}, "vcpus"),
    ({"memory_mib": 8193}, "memory_mib"),
    ({"memory_mib": -5}, "memory_mib"),
    ({"os_variant": "beos5"}, "os_variant"),
    ({"install": "iso", "iso_volume": "iso/../../../etc/shadow"}, "iso_volume"),
    ({"install": "iso", "iso_volume": "iso/missing.iso"}, "iso_volume"),
    ({"install": "iso", "iso_volume": "nopool/debian-11.iso"}, "iso_volume"),
    ({"disk_pool": "nopool", "disk_size_gib": 1}, "disk_pool"),
    ({"disk_pool": "images", "disk_size_gib": 0}, "disk_size_gib"),
    ({"disk_pool": "images", "disk_size_gib": 60000, "disk_allocation": "thick"}, "disk_size_gib"),
    ({"network": "nonet"}, "network"),
    ({"bridge": "br-missing"}, "bridge"),
    ({"bridge": "eth1"}, "bridge"),  # an ethernet NIC, not a bridge
    ({"template": "no-such-template"}, "template"),
    ({"template": {"name": "x"}}, "template"),
    ({"template": True}, "template"),
    ({"template": 10**30}, "template"),
    ({"template": "9" * 40}, "template"),
    ({"host": 9999}, "host"),
    ({"host": "abc"}, "host"),
    ({"dry_run": "maybe"}, "dry_run"),
    ({"install": {"$gt": ""}}, "install"),
])
def test_it_refuses_bad_answers_naming_the_field_and_makes_nothing(api, host, answers, field):
    before = (domain_names(host), volume_names(host))
    body = {"host": host.pk, "name": "vm1", **answers}
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert (domain_names(host), volume_names(host)) == before
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_name_clashing_with_a_new_volume_in_the_pool(api, host):
    call(host, lambda conn: conn.storagePoolLookupByName("images").createXML(
        "<volume><name>vm1.qcow2</name><capacity>1024</capacity><target><format type='qcow2'/></target></volume>", 0))
    response = api.post(LIST, {"host": host.pk, "name": "vm1", "disk_pool": "images", "disk_size_gib": 1,
                               "dry_run": True}, format="json")
    assert response.status_code == 400 and "vm1.qcow2" in response.json()["disk_pool"][0]


@pytest.mark.django_db(transaction=True)
class TestCreateJob:
    def create(self, api, host, **answers):
        response = api.post(LIST, {"host": host.pk, "name": "vm1", **answers}, format="json")
        assert response.status_code == 202, response.content
        assert response["Location"].endswith(f"/api/jobs/{response.json()['id']}/")
        job = Job.objects.get(pk=response.json()["id"])
        create_instance_task.run(job.pk, **job.params)
        job.refresh_from_db()
        return job

    def test_it_creates_the_volume_defines_and_starts_and_returns_the_instance(self, api, host):
        job = self.create(api, host, install="none", disk_pool="images", disk_size_gib=2, disk_format="raw",
                          disk_allocation="thick", memory_mib=256, vcpus=1)
        assert job.status == "succeeded", job.error
        instance = Instance.objects.get(pk=job.result["instance"])
        assert (instance.name, instance.state, str(instance.uuid)) == ("vm1", "running", job.result["uuid"])
        assert job.target_url == instance.get_absolute_url() and job.target_name == "vm1"
        assert "vm1.img" in volume_names(host)
        capacity, allocation = call(host, lambda conn: conn.storagePoolLookupByName("images")
                                    .storageVolLookupByName("vm1.img").info()[1:])
        assert capacity == allocation == 2 * 1024**3
        assert call(host, lambda conn: conn.lookupByName("vm1").isActive()) == 1

    def test_it_leaves_a_vm_shut_off_when_asked_not_to_start(self, api, host):
        job = self.create(api, host, start=False)
        assert job.status == "succeeded" and Instance.objects.get(pk=job.result["instance"]).state == "shutoff"

    def test_it_removes_the_volume_when_the_definition_fails(self, api, host):
        response = api.post(LIST, {"host": host.pk, "name": "vm1", "disk_pool": "images", "disk_size_gib": 1},
                            format="json")
        job = Job.objects.get(pk=response.json()["id"])
        # The domain appears between the plan and the job: libvirt refuses the definition halfway.
        call(host, lambda conn: conn.defineXML("<domain type='test'><name>vm1</name><memory>1024</memory>"
                                               "<os><type>hvm</type></os></domain>"))
        create_instance_task.run(job.pk, **job.params)
        job.refresh_from_db()
        assert job.status == "failed" and "vm1" in job.error and "removed: volume images/vm1.qcow2" in job.error
        assert "vm1.qcow2" not in volume_names(host)


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[1,2]", '"text"', "{bad", "null"])
def test_it_refuses_a_body_that_is_not_an_object(api, host, body):
    response = api.post(LIST, body, content_type="application/json")
    assert response.status_code == 400 and not Job.objects.exists()


@pytest.mark.django_db
def test_it_takes_form_encoded_answers_too(api, host):
    response = api.post(LIST, {"host": host.pk, "name": "vm1", "vcpus": "2", "dry_run": "true"})
    assert response.status_code == 200 and "<vcpu>2</vcpu>" in response.json()["xml"]


@pytest.mark.django_db
def test_it_refuses_anonymous_creation(client, host):
    response = client.post(LIST, {"host": host.pk, "name": "vm1"}, content_type="application/json")
    assert response.status_code == 401
    assert domain_names(host) == ["busy", "existing"]


@pytest.mark.django_db
def test_it_refuses_to_start_a_vm_on_a_stopped_network_but_defines_it_shut_off(api, host):
    call(host, lambda conn: conn.networkLookupByName("default").destroy())
    body = {"host": host.pk, "name": "vm1", "network": "default", "dry_run": True}
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400 and "not running" in response.json()["network"][0]
    assert api.post(LIST, {**body, "start": False}, format="json").status_code == 200


@pytest.mark.django_db
def test_it_plugs_the_nic_into_a_bridge_the_host_lists(api, host):
    (nic,) = list(dry_run(api, host, bridge="br0").interfaces)
    assert (nic.type, nic.source) == ("bridge", "br0")
