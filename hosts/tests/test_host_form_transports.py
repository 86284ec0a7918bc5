"""The add-host form's transport step, on libvirt's test driver: the URI must fit the transport, fields of other
transports are dropped, and an SSH host is never saved without a pinned host key."""
import pytest

from core.testing import node_uri
from hosts.models import Host

pytestmark = pytest.mark.django_db


def add(admin_client, **fields):
    return admin_client.post("/hosts/add/", {"name": "h", **fields})


def test_it_asks_for_the_transport_first(admin_client):
    page = admin_client.get("/hosts/add/").content.decode()
    assert page.index('name="transport"') < page.index('name="name"')
    for label in ("SSH", "TLS", "TCP with SASL", "This machine", "TLS CA certificate", "SSH private key"):
        assert label in page
    response = add(admin_client, uri=node_uri("small"))
    assert "transport" in response.context["form"].errors and not Host.objects.exists()


def test_it_refuses_a_uri_of_another_transport_naming_the_example(admin_client):
    response = add(admin_client, transport="tls", uri=node_uri("small"))
    assert "qemu+tls://kvm1.example.org/system" in response.context["form"].errors["uri"][0]
    assert not Host.objects.exists()


def test_it_drops_the_credentials_the_transport_does_not_take(admin_client):
    response = add(admin_client, transport="test", uri=node_uri("small"), username="someone",
                   ssh_known_hosts="h ssh-ed25519 AAAA", tls_ca_cert="-----BEGIN CERTIFICATE-----")
    assert response.status_code == 302
    host = Host.objects.get()
    assert (host.username, host.ssh_known_hosts, host.tls_ca_cert) == ("", "", "")


def test_it_never_saves_an_ssh_host_without_a_pinned_key(admin_client):
    response = add(admin_client, transport="ssh", uri="qemu+ssh://root@kvm1.example.org/system",
                   ssh_private_key="-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert "Pin the host's SSH key" in response.context["form"].errors["ssh_known_hosts"][0]
    assert not Host.objects.exists()


@pytest.mark.parametrize("token", ["", "garbage", "a" * 5000, "eyJ4Ijoi.bad:sig"])
def test_it_refuses_a_forged_host_key_token(admin_client, token):
    response = add(admin_client, transport="ssh", uri="qemu+ssh://root@kvm1.example.org/system",
                   ssh_host_key_token=token, confirm_host_key="1")
    assert response.context["form"].errors["ssh_known_hosts"] and not Host.objects.exists()


def test_it_hides_the_test_driver_when_it_is_off(admin_client, settings):
    settings.VIRTDECK_ALLOW_TEST_DRIVER = False
    assert 'value="test"' not in admin_client.get("/hosts/add/").content.decode()


def test_it_answers_the_fetch_step_with_the_reason_when_the_host_cannot_be_asked(admin_client):
    not_ssh = admin_client.post("/hosts/ssh-host-key/", {"uri": "qemu+tls://kvm1.example.org/system"})
    assert "Only an SSH host" in not_ssh.content.decode()
    closed = admin_client.post("/hosts/ssh-host-key/", {"uri": "qemu+ssh://root@127.0.0.1:1/system"})
    assert "Could not fetch the SSH host key of [127.0.0.1]:1" in closed.content.decode()
    hostile = admin_client.post("/hosts/ssh-host-key/", {"uri": "qemu+ssh://h/system?command=/bin/sh"})
    assert "command" in hostile.content.decode() and "not allowed" in hostile.content.decode()


def test_it_answers_400_naming_the_uri_through_the_api(api):
    response = api.post("/api/hosts/ssh-host-key/", {"uri": "qemu+tcp://kvm1.example.org/system"}, format="json")
    assert response.status_code == 400 and "uri" in response.json()
    hostile = api.post("/api/hosts/ssh-host-key/", {"uri": "qemu+ssh://h/system?command=/bin/sh"}, format="json")
    assert hostile.status_code == 400 and "command" in hostile.json()["uri"][0]
    assert api.post("/api/hosts/ssh-host-key/", {}, format="json").status_code == 400


def test_it_generates_a_key_pair_whose_private_half_never_reaches_the_page(admin_client, api):
    fragment = admin_client.post("/hosts/ssh-key-pair/").content.decode()
    assert "ssh-ed25519 " in fragment and "PRIVATE KEY" not in fragment
    pair = api.post("/api/hosts/ssh-key-pair/").json()
    assert pair["public_key"].startswith("ssh-ed25519 ") and "OPENSSH PRIVATE KEY" in pair["private_key"]


def test_it_keeps_the_ssh_key_steps_for_admins(client, member, make_host):
    from rest_framework.test import APIClient

    host = make_host("small")
    client.force_login(member)
    assert client.post("/hosts/ssh-host-key/", {"uri": "qemu+ssh://root@127.0.0.1:22/system"}).status_code == 403
    assert client.post("/hosts/ssh-key-pair/").status_code == 403
    assert client.get(f"/hosts/{host.pk}/host-key/").status_code == 404  # about a host they may not see
    api = APIClient()
    api.force_authenticate(member)
    assert api.post("/api/hosts/ssh-host-key/", {"uri": "qemu+ssh://root@127.0.0.1/system"}).status_code == 403
    assert api.post("/api/hosts/ssh-key-pair/").status_code == 403
    assert api.get(f"/api/hosts/{host.pk}/host-key/").status_code == 404


def test_it_keeps_the_original_refusal_when_the_key_cannot_be_fetched():
    from hosts import host_keys
    from virt.errors import HostUnreachable

    host = Host(name="h", uri="qemu+ssh://root@127.0.0.1:1/system", ssh_known_hosts="[127.0.0.1]:1 ssh-ed25519 AAAA")
    error = HostUnreachable("Host key verification failed.")
    assert host_keys.explain_refusal(host, error) is error  # nothing answers on port 1
    other = HostUnreachable("Connection refused")
    assert host_keys.explain_refusal(host, other) is other  # not about the key: not even asked
