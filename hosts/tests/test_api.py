"""/api/hosts/: CRUD, write-only secrets, connect-before-save, refresh as a job."""
import pytest
from django.urls import reverse

from core.models import Job
from core.testing import node_uri
from hosts.models import Host
from instances.models import Instance

pytestmark = pytest.mark.django_db
LIST = "/api/hosts/"


def test_it_adds_a_host_that_answers(api):
    response = api.post(LIST, {"name": "kvm-small", "uri": node_uri("small"), "password": "pw",
                               "migration_address": "10.0.0.5"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "up" and body["has_password"] is True and "password" not in body
    assert body["facts"]["cpus"] == 8 and body["migration_address"] == "10.0.0.5"
    assert Instance.objects.filter(host_id=body["id"]).count() == 3


def test_it_shows_libvirts_error_and_saves_nothing(api):
    response = api.post(LIST, {"name": "down", "uri": "qemu+tcp://127.0.0.1:1/system"}, format="json")
    assert response.status_code == 503
    assert "Connection refused" in response.json()["detail"]
    assert not Host.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "uri": "qemu+ssh://h/system?command=/bin/sh"}, "uri"),
        ({"name": "x", "uri": "javascript:alert(1)"}, "uri"),
        ({"name": "x"}, "uri"),
        ({"uri": "test:///default"}, "name"),
        ({"name": "x" * 500, "uri": "test:///default"}, "name"),
    ],
)
def test_it_rejects_bad_input_with_a_clear_error(api, payload, field):
    response = api.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Host.objects.exists()


def test_it_refuses_malformed_json(api):
    response = api.post(LIST, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_it_never_returns_secrets(api, make_host):
    host = make_host("small", password="sasl-secret", ssh_private_key="PRIVATE-KEY", tls_client_key="TLS-KEY")
    for url in (LIST, f"{LIST}{host.pk}/"):
        text = api.get(url).content.decode()
        assert "sasl-secret" not in text and "PRIVATE-KEY" not in text and "TLS-KEY" not in text


def test_it_keeps_a_stored_secret_on_update_without_one(api, make_host):
    host = make_host("small", password="sasl-secret")
    response = api.patch(f"{LIST}{host.pk}/", {"description": "rack 4", "password": ""}, format="json")
    assert response.status_code == 200, response.content
    host.refresh_from_db()
    assert host.password == "sasl-secret" and host.description == "rack 4"


def test_it_refuses_an_update_to_a_uri_that_does_not_answer(api, make_host):
    host = make_host("small")
    response = api.patch(f"{LIST}{host.pk}/", {"uri": "qemu+tcp://127.0.0.1:1/system"}, format="json")
    assert response.status_code == 503
    host.refresh_from_db()
    assert host.uri == node_uri("small")


def test_it_shows_the_capability_summary(api, make_host):
    host = make_host("small")
    body = api.get(f"{LIST}{host.pk}/").json()
    assert {"hostname", "cpu_model", "sockets", "cores", "threads", "vmx", "svm", "kvm", "memory_mib",
            "libvirt_version", "hypervisor_version", "kernel"} <= set(body["facts"])
    assert body["capabilities_xml"].startswith("<capabilities>")
    assert body["vm_count"] == 3 and body["running_count"] == 1


def test_it_refreshes_as_a_job_with_202_and_location(api, make_host):
    host = make_host("small")
    response = api.post(f"{LIST}{host.pk}/refresh/")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(reverse("api-core:job-detail", args=[job.pk]))
    assert (job.kind, job.target_kind, job.target_id, job.status) == ("refresh_host", "host", str(host.pk), "queued")


def test_it_deletes_a_host_and_its_inventory_only(api, make_host):
    host = make_host("small")
    assert api.delete(f"{LIST}{host.pk}/").status_code == 204
    assert not Host.objects.exists() and not Instance.objects.exists()


@pytest.mark.parametrize("path", ["{state}/secret_key%00.xml", "/etc/shadow%00.xml", "/etc/hostname.xml",
                                  "{nodes}/%2e%2e/%2e%2e/%2e%2e/etc/x.xml"])
def test_it_never_lets_the_test_driver_read_other_files(api, path):
    from django.conf import settings

    from core.testing import NODES

    uri = "test://" + path.format(state=settings.STATE_DIR, nodes=NODES)
    response = api.post(LIST, {"name": "leak", "uri": uri}, format="json")
    assert response.status_code == 400 and "uri" in response.json()
    assert settings.SECRET_KEY not in response.content.decode() and "root:" not in response.content.decode()
    assert not Host.objects.exists()
