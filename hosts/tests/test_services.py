"""Host services against libvirt's test driver, cross-checked through libvirt itself."""
import libvirt
import pytest

from core.testing import node_uri
from hosts import services
from hosts.connection import call, connection_spec, reconnect
from hosts.credentials import credentials_dir, credentials_path
from hosts.models import Host
from hosts.sync import mark_unreachable, sync_host
from instances.models import Instance
from virt.errors import HostUnreachable, InvalidConfig

pytestmark = pytest.mark.django_db


def libvirt_domains(uri):
    conn = libvirt.open(uri)
    try:
        return {d.UUIDString(): (d.name(), d.state()[0]) for d in conn.listAllDomains()}
    finally:
        conn.close()


def test_it_creates_a_host_and_reads_its_facts(make_host):
    host = make_host("small")
    assert host.state == Host.State.UP
    assert host.facts["hostname"]
    assert host.facts["cpus"] == 8
    assert host.facts["libvirt_version"].startswith("9.")
    assert host.facts["driver"] == "TEST"
    assert "<capabilities>" in host.capabilities_xml
    assert host.facts["kernel"]  # test:/// runs on this machine
    assert host.facts["acceleration"] == "tcg"  # the test driver offers no kvm domain type


def test_it_syncs_the_inventory_as_libvirt_sees_it(make_host):
    host = make_host("small")
    rows = {str(i.uuid): i for i in Instance.objects.filter(host=host)}
    expected = libvirt_domains(node_uri("small"))
    assert set(rows) == set(expected)
    assert {r.name: r.state for r in rows.values()} == {"web1": "running", "db1": "shutoff", "cache1": "paused"}
    web1 = next(r for r in rows.values() if r.name == "web1")
    assert (web1.vcpus, web1.memory_kib, web1.persistent) == (2, 524288, True)


def test_it_follows_changes_made_out_of_band_and_removes_undefined_vms(make_host):
    host = make_host("small")

    def change(conn):
        conn.lookupByName("web1").destroy()
        conn.lookupByName("db1").undefine()
        conn.defineXML(
            "<domain type='test'><name>new1</name><memory>131072</memory><vcpu>3</vcpu>"
            "<os><type>hvm</type></os></domain>"
        )

    call(host, change)  # same connection as the sync: the same private copy of the node
    assert sync_host(host) == 3
    states = dict(Instance.objects.filter(host=host).values_list("name", "state"))
    assert states == {"web1": "shutoff", "cache1": "paused", "new1": "shutoff"}
    assert Instance.objects.get(name="new1").vcpus == 3


def test_it_does_not_save_a_host_it_cannot_reach(db):
    with pytest.raises(HostUnreachable, match="Connection refused"):
        services.create_host(Host(name="nowhere", uri="qemu+tcp://127.0.0.1:1/system"))
    assert not Host.objects.exists()


@pytest.mark.parametrize("uri", ["qemu+ssh://h/system?command=/bin/sh", "http://example.org/", "test:///etc/passwd"])
def test_it_refuses_unsafe_uris_before_connecting(db, uri):
    with pytest.raises(InvalidConfig):
        services.create_host(Host(name="bad", uri=uri))
    assert not Host.objects.exists()


def test_it_marks_a_broken_host_unreachable_and_keeps_others(make_host):
    good = make_host("small")
    other = make_host("empty")
    Host.objects.filter(pk=other.pk).update(uri="qemu+tcp://127.0.0.1:1/system")
    other.refresh_from_db()
    reconnect(other)
    assert sync_host(other) is None
    other.refresh_from_db()
    assert other.state == Host.State.UNREACHABLE and "Connection refused" in other.last_error
    assert sync_host(good) == 3
    good.refresh_from_db()
    assert good.state == Host.State.UP and good.latency_ms is not None


def test_it_encrypts_credentials_at_rest(make_host):
    from django.db import connection

    host = make_host("small", password="sasl-secret", ssh_private_key="-----BEGIN KEY-----\nabc\n")
    with connection.cursor() as cursor:
        cursor.execute("SELECT password, ssh_private_key FROM hosts_host WHERE id = %s", [host.pk])
        stored = cursor.fetchone()
    assert "sasl-secret" not in stored[0] and "BEGIN KEY" not in stored[1]
    assert Host.objects.get(pk=host.pk).password == "sasl-secret"


def test_it_writes_ssh_and_tls_credentials_to_private_files(db, tmp_path):
    import os
    import stat

    host = Host(name="k", uri="qemu+libssh://root@kvm1/system", ssh_private_key="KEY", ssh_known_hosts="kvm1 ssh-ed25519 AAAA")
    spec = connection_spec(host)
    assert "keyfile=" in spec.uri and "known_hosts=" in spec.uri and "known_hosts_verify=normal" in spec.uri
    keyfile = spec.uri.split("keyfile=")[1].split("&")[0]
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(keyfile)).st_mode) == 0o700

    tls = Host(name="t", uri="qemu+tls://kvm1/system", tls_ca_cert="CA", tls_client_cert="CERT", tls_client_key="PKEY")
    pki = connection_spec(tls).uri.split("pkipath=")[1]
    assert sorted(os.listdir(pki)) == ["cacert.pem", "clientcert.pem", "clientkey.pem"]

    ssh = Host(name="s", uri="qemu+ssh://root@kvm1/system", ssh_private_key="KEY", ssh_known_hosts="kvm1 ssh-ed25519 AAAA")
    wrapper = connection_spec(ssh).uri.split("command=")[1].split("&")[0]
    assert "StrictHostKeyChecking=yes" in open(wrapper).read()


def test_it_fans_out_one_expiring_sync_per_host(make_host, monkeypatch):
    from hosts import tasks

    hosts = [make_host("small"), make_host("empty")]
    sent = []
    monkeypatch.setattr(tasks.sync_host, "apply_async", lambda **kwargs: sent.append(kwargs))
    tasks.sync_all_hosts()
    assert sorted(k["args"][0] for k in sent) == sorted(h.pk for h in hosts)
    assert all(k["expires"] == 5.0 for k in sent)


def test_it_skips_a_vm_that_vanishes_during_the_sync(make_host, monkeypatch):
    """A transient VM that stops between the listing and its info() must not fail the host."""
    from virt import inventory

    host = make_host("empty")
    call(host, lambda conn: conn.createXML(
        "<domain type='test'><name>blink</name><memory>131072</memory><os><type>hvm</type></os></domain>"))
    real_fill = inventory._fill_from_info

    def vanish_first(dom, record):
        if dom.name() == "blink":
            dom.destroy()  # transient: gone now
        return real_fill(dom, record)

    monkeypatch.setattr(inventory, "_fill_from_info", vanish_first)
    assert sync_host(host) == 0
    host.refresh_from_db()
    assert host.state == Host.State.UP


def test_it_keeps_everything_as_it_was_when_an_edit_does_not_connect(make_host, tmp_path):
    from hosts.forms import HostForm

    host = make_host("small", ssh_private_key="OLD-KEY")
    old_dir = credentials_path(host)
    connection_spec(host)  # writes the stored key files, as any call does
    assert old_dir.exists()
    form = HostForm({"transport": "ssh", "name": host.name, "uri": "qemu+ssh://root@127.0.0.1:1/system",
                     "ssh_private_key": "NEW-KEY", "ssh_known_hosts": "[127.0.0.1]:1 ssh-ed25519 AAAA"},
                    instance=Host.objects.get(pk=host.pk))
    assert form.is_valid(), form.errors
    with pytest.raises(HostUnreachable):
        services.update_host(form.instance, form.changed_data)
    stored = Host.objects.get(pk=host.pk)
    assert (stored.uri, stored.ssh_private_key) == (node_uri("small"), "OLD-KEY")
    assert old_dir.exists() and not credentials_path(form.instance).exists()
    # The saved host is not left in a backoff by the failed try.
    assert sync_host(stored) == 3


def test_it_removes_replaced_key_files_after_a_successful_edit(make_host):
    host = make_host("small", ssh_known_hosts="kvm1 ssh-ed25519 OLD")
    old_dir = credentials_dir(host)
    host.ssh_known_hosts = "kvm1 ssh-ed25519 NEW"
    services.update_host(host, ["ssh_known_hosts"])
    assert not old_dir.exists()


def test_it_builds_an_ssh_command_with_the_pinned_key_and_no_shell(db):
    from hosts import shell

    host = Host(name="k", uri="qemu+libssh://root@kvm1:2222/system", ssh_private_key="KEY",
                ssh_known_hosts="[kvm1]:2222 ssh-ed25519 AAAA")
    argv = shell.ssh_argv(host, ["uname", "-sr"])
    assert argv[0] == "ssh" and argv[-4:] == ["--", "kvm1", "uname", "-sr"]
    assert "StrictHostKeyChecking=yes" in argv and "BatchMode=yes" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-l") + 1] == "root"
    assert any(a.startswith("UserKnownHostsFile=") for a in argv)
    # The remote shell re-splits the command line: every word arrives quoted, metacharacters inert.
    assert shell.ssh_argv(host, ["echo", "a b; rm -rf /", "$(id)"])[-3:] == ["echo", "'a b; rm -rf /'", "'$(id)'"]
    with pytest.raises(shell.HostShellError, match="not reached over SSH"):
        shell.ssh_argv(Host(name="t", uri="qemu+tls://kvm1/system"), ["uname"])


def test_it_does_not_flip_back_a_host_reached_after_the_failure(make_host):
    """A pool still backing off repeats an old failure: a host another process reached since stays up."""
    import time

    host = make_host("small")
    host.refresh_from_db()
    seen_up = host.last_seen.timestamp()
    mark_unreachable(host, HostUnreachable("Connection refused", observed_at=seen_up - 10))
    host.refresh_from_db()
    assert host.state == Host.State.UP and host.last_error == ""

    mark_unreachable(host, HostUnreachable("no answer within 5 s", observed_at=time.time()))
    host.refresh_from_db()
    assert host.state == Host.State.UNREACHABLE and host.last_error == "no answer within 5 s"
