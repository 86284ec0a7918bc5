"""Host pages: add (connect first), edit (secrets kept), remove, refresh as a job."""
import pytest

from core.models import Job
from core.testing import node_uri
from hosts.models import Host

pytestmark = pytest.mark.django_db


def test_it_adds_a_host_through_the_form(admin_client):
    response = admin_client.post("/hosts/add/", {"transport": "test", "name": "lab-a", "uri": node_uri("small")})
    host = Host.objects.get(name="lab-a")
    assert response.status_code == 302 and response["Location"] == f"/hosts/{host.pk}/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "KVM available" in page or "TCG only" in page
    assert "web1" in page and "8 CPUs" in page


def test_it_shows_libvirts_error_in_the_form_and_saves_nothing(admin_client):
    response = admin_client.post("/hosts/add/", {"transport": "tcp", "name": "down",
                                                  "uri": "qemu+tcp://127.0.0.1:1/system"})
    assert response.status_code == 200
    assert "Could not connect to qemu+tcp://127.0.0.1:1/system" in response.content.decode()
    assert "Connection refused" in response.content.decode()
    assert not Host.objects.exists()


def test_it_explains_a_refused_uri_next_to_the_field(admin_client):
    response = admin_client.post("/hosts/add/", {"transport": "ssh", "name": "x",
                                                  "uri": "qemu+ssh://h/system?command=/bin/sh"})
    assert response.status_code == 200
    assert response.context["form"].errors["uri"] == [
        "Query parameter 'command' is not allowed (it could run programs or open arbitrary sockets). "
        "Allowed: known_hosts_verify, no_tty, no_verify, sshauth, tls_priority."
    ]


def test_it_never_renders_stored_secrets_and_keeps_them_on_edit(admin_client, make_host):
    host = make_host("small", password="sasl-secret", ssh_private_key="PRIVATE-KEY")
    page = admin_client.get(f"/hosts/{host.pk}/edit/").content.decode()
    assert "sasl-secret" not in page and "PRIVATE-KEY" not in page and "Stored. Leave empty" in page
    response = admin_client.post(f"/hosts/{host.pk}/edit/", {"transport": "test", "name": "renamed", "uri": host.uri,
                                                            "password": ""})
    assert response.status_code == 302
    host.refresh_from_db()
    assert (host.name, host.password, host.ssh_private_key) == ("renamed", "sasl-secret", "PRIVATE-KEY")


SECRETS = {"password": "pw-Zq9-never-shown", "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nKEY-Zq9\n",
           "tls_client_key": "-----BEGIN PRIVATE KEY-----\nTLS-Zq9\n"}


@pytest.mark.parametrize("uri", ["qemu+tcp://127.0.0.1:1/system", "qemu+ssh://h/system?command=/bin/sh"],
                         ids=["connect-fails", "form-invalid"])
def test_it_never_renders_submitted_secrets_back(admin_client, uri):
    transport = "ssh" if uri.startswith("qemu+ssh") else "tcp"
    response = admin_client.post("/hosts/add/", {"transport": transport, "name": "down", "uri": uri, **SECRETS})
    assert response.status_code == 200 and response.context["form"].errors
    page = response.content.decode()
    for marker in ("pw-Zq9", "KEY-Zq9", "TLS-Zq9"):
        assert marker not in page
    assert page.count("Not shown again for safety: enter it again.") == len(SECRETS)
    assert not Host.objects.exists()


def test_it_removes_a_host_after_confirmation(admin_client, make_host):
    host = make_host("small")
    assert b"Nothing changes on the host itself" in admin_client.get(f"/hosts/{host.pk}/delete/").content
    assert admin_client.post(f"/hosts/{host.pk}/delete/").status_code == 302
    assert not Host.objects.exists()


def test_it_starts_a_refresh_job_from_the_host_page(admin_client, make_host, admin_user):
    host = make_host("small")
    response = admin_client.post(f"/hosts/{host.pk}/refresh/", follow=True)
    job = Job.objects.get()
    assert (job.kind, job.target_id, job.user) == ("refresh_host", str(host.pk), admin_user)
    assert f"job #{job.pk}" in response.content.decode()
