"""The creation wizard's pages and the clone form, on libvirt's test driver (the wizard node)."""
import pytest
from django.contrib.messages import get_messages
from django.test import Client

from core.models import Job
from hosts.connection import call
from instances.creation_tasks import create_instance_task
from instances.models import Instance, InstanceTemplate

pytestmark = pytest.mark.django_db
ADD = "/instances/new/"


@pytest.fixture
def host(make_host):
    return make_host("wizard")


def answers(host, **fields):
    return {"host": host.pk, "install": "none", "name": "vm1", "os_variant": "generic", "firmware": "bios",
            "memory_mib": "256", "vcpus": "1", "disk_pool": "images", "disk_size_gib": "1", "disk_format": "qcow2",
            "disk_allocation": "thin", "network": "default", "start": "on", **fields}


def domain_names(host):
    return sorted(call(host, lambda conn: [d.name() for d in conn.listAllDomains(0)]))


def test_it_needs_a_login(client, host):
    assert client.get(ADD).status_code == 302
    assert client.post(ADD, answers(host)).status_code == 302


@pytest.mark.parametrize("host_id", ["", "abc", "-1", "9999", "1 OR 1=1", "9" * 30])
def test_it_answers_404_for_a_host_that_is_not_one(admin_client, host, host_id):
    assert admin_client.post(ADD, {**answers(host), "host": host_id}).status_code == 404
    assert admin_client.get(ADD, {"host": host_id, "install": "none"}).status_code == 200  # step 1 again


def test_it_starts_with_the_host_and_the_install_method(admin_client, host):
    page = admin_client.get(ADD).content.decode()
    assert "1. Host and install method" in page and "wizard" in page and "Network boot (PXE)" in page


def test_it_shows_what_the_host_offers_and_its_limits(admin_client, host):
    page = admin_client.get(ADD, {"host": host.pk, "install": "iso"}).content.decode()
    assert 'value="iso/debian-11.iso"' in page and 'value="images"' in page and 'value="default"' in page
    assert "at most 4 vCPUs" in page and "8192 MiB" in page and 'max="4"' in page
    assert "UEFI is not offered" in page and "<code>test</code>" in page


def test_it_previews_the_xml_and_makes_nothing(admin_client, host):
    response = admin_client.post(ADD, answers(host, operation="preview"))
    assert response.status_code == 200
    assert "&lt;name&gt;vm1&lt;/name&gt;" in response.content.decode()
    assert domain_names(host) == ["busy", "existing"] and not Job.objects.exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "a/b"}, "name"),
    ({"name": "existing"}, "name"),
    ({"vcpus": "5"}, "vcpus"),
    ({"memory_mib": "999999"}, "memory_mib"),
    ({"os_variant": "beos5"}, "os_variant"),
    ({"disk_pool": "nopool"}, "disk_pool"),
])
def test_it_shows_bad_answers_on_their_field_and_makes_nothing(admin_client, host, fields, field):
    for operation in ("preview", "create"):
        response = admin_client.post(ADD, answers(host, operation=operation, **fields))
        assert response.status_code == 200 and field in response.context["form"].errors
    assert domain_names(host) == ["busy", "existing"] and not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_creates_as_a_job_and_goes_to_it(admin_client, host):
    response = admin_client.post(ADD, answers(host, operation="create"))
    job = Job.objects.get(kind="create_instance")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    create_instance_task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "succeeded" and Instance.objects.get(pk=job.result["instance"]).name == "vm1"
    assert "vm1" in domain_names(host)


def test_it_creates_from_the_customized_xml(admin_client, host):
    preview = admin_client.post(ADD, answers(host, operation="preview")).context["preview"]
    edited = preview.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
    admin_client.post(ADD, answers(host, operation="create", xml=edited, customize="on"))
    assert "<vcpu>2</vcpu>" in Job.objects.get(kind="create_instance").params["xml"]


def test_it_refuses_customized_xml_with_entities(admin_client, host):
    hostile = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain><name>&x;</name></domain>'
    response = admin_client.post(ADD, answers(host, operation="create", xml=hostile, customize="on"))
    assert response.status_code == 200 and "xml" in response.context["form"].errors
    assert "root:" not in response.content.decode() and not Job.objects.exists()


def test_it_refuses_a_vnc_password_in_customized_xml(admin_client, host):
    preview = admin_client.post(ADD, answers(host, operation="preview")).context["preview"]
    edited = preview.replace('<graphics type="vnc"', '<graphics type="vnc" passwd="s3cret-pw"')
    response = admin_client.post(ADD, answers(host, operation="create", xml=edited, customize="on"))
    assert "xml" in response.context["form"].errors and not Job.objects.exists()


def test_it_saves_the_answers_as_a_template_and_starts_from_it(admin_client, host):
    admin_client.post(ADD, answers(host, operation="save_template", template_name="tiny"))
    template = InstanceTemplate.objects.get(name="tiny")
    assert "name" not in template.answers and template.answers["memory_mib"] == 256
    page = admin_client.get(ADD, {"host": host.pk, "install": "none", "template": template.pk})
    assert page.context["form"]["memory_mib"].value() == 256 and "template tiny" in page.content.decode()


def test_it_refuses_a_template_name_twice(admin_client, host):
    InstanceTemplate.objects.create(name="tiny", answers={})
    response = admin_client.post(ADD, answers(host, operation="save_template", template_name="tiny"))
    assert "template_name" in response.context["form"].errors


def test_it_starts_a_clone_from_the_vm_page(admin_client, host):
    vm = Instance.objects.get(name="existing")
    assert 'action="/instances/%d/clone/"' % vm.pk in admin_client.get(vm.get_absolute_url()).content.decode()
    response = admin_client.post(f"/instances/{vm.pk}/clone/", {"name": "copy", "pool": "images"})
    job = Job.objects.get(kind="clone_instance")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()


def test_it_says_why_a_clone_is_refused(admin_client, host):
    vm = Instance.objects.get(name="busy")
    response = admin_client.post(f"/instances/{vm.pk}/clone/", {"name": "copy", "pool": "images"})
    assert response.status_code == 302 and response["Location"] == vm.get_absolute_url()
    assert "paused_copy" in str(list(get_messages(response.wsgi_request))[0])
    assert not Job.objects.exists()


def test_it_checks_csrf_on_the_wizard_and_the_clone(admin_user, host):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(ADD, answers(host, operation="create")).status_code == 403
    vm = Instance.objects.get(name="existing")
    assert client.post(f"/instances/{vm.pk}/clone/", {"name": "copy", "pool": "images"}).status_code == 403


def test_it_offers_the_hosts_bridges(admin_client, host):
    page = admin_client.get(ADD, {"host": host.pk, "install": "none"}).content.decode()
    assert '<option value="br0">br0</option>' in page and '<option value="eth1">' not in page


def test_it_creates_from_a_template_in_one_step(admin_client, host):
    template = InstanceTemplate.objects.create(name="tiny", answers={"memory_mib": 256, "disk_pool": "images",
                                                                     "disk_size_gib": 1})
    assert "create from a template in one step" in admin_client.get(ADD).content.decode()
    response = admin_client.post(ADD, {"operation": "from_template", "quick-host": host.pk,
                                       "quick-template": template.pk, "quick-name": "vm1"})
    job = Job.objects.get(kind="create_instance")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.params["volume"]["name"] == "vm1.qcow2" and "<name>vm1</name>" in job.params["xml"]


@pytest.mark.parametrize("name", ["a/b", "existing", ""])
def test_it_refuses_a_bad_name_for_a_template_create_and_makes_nothing(admin_client, host, name):
    template = InstanceTemplate.objects.create(name="tiny", answers={"memory_mib": 256})
    response = admin_client.post(ADD, {"operation": "from_template", "quick-host": host.pk,
                                       "quick-template": template.pk, "quick-name": name})
    assert response.status_code == 200 and "name" in response.context["quick"].errors
    assert not Job.objects.exists()
