"""Adding an SSH host safely, against real sshds in the two-host lab's vd-hostA namespace (10.77.0.1).

- virtdeck fetches the host key itself; the admin confirms its fingerprint before it is pinned.
  Cross-checked with OpenSSH: `ssh-keygen -lf` of the lab's host key and of what virtdeck pinned.
- A key pair virtdeck generates logs in (its public line put in a test sshd's authorized_keys).
- A host whose key changes is refused, naming the old and new fingerprints, until an admin accepts the new key.

The changing host is a second sshd this test starts in vd-hostA on a port of its own (stopped by PID), with a
host key the test swaps. `ip netns exec` keeps the machine's mount namespace, so its virt-ssh-helper reaches the
lab libvirtd (qemu:///system): a real libvirt connection over SSH either way.
"""
import re
import subprocess
from pathlib import Path

import pytest

from core.testing import eventually, free_port
from hosts import host_keys
from hosts.connection import call, reconnect
from hosts.models import Host
from hosts.sync import sync_host

from .test_lab_transports import keygen, stop

pytestmark = [pytest.mark.lab, pytest.mark.django_db]

ADDRESS = "10.77.0.1"
NAMESPACE = "vd-hostA"


def openssh_fingerprint(path):
    """SHA256:... of a public key or known_hosts file, as OpenSSH computes it."""
    return subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def banner(port):
    import socket
    try:
        with socket.create_connection((ADDRESS, port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class NamespaceSshd:
    """An sshd in vd-hostA on its own port: key-only root login with this test's authorized_keys."""

    def __init__(self, tmp_path, lab_client_pub):
        self.dir, self.port, self.proc = tmp_path, free_port(), None
        self.authorized_keys = tmp_path / "authorized_keys"
        self.authorized_keys.write_text(Path(lab_client_pub).read_text())

    def start(self, host_key_name):
        key = self.dir / host_key_name
        if not key.exists():
            keygen(key, f"virtdeck-test-{host_key_name}")
        config = self.dir / f"sshd_config_{host_key_name}"
        config.write_text("\n".join([
            f"ListenAddress {ADDRESS}", f"Port {self.port}", f"HostKey {key}", f"PidFile {self.dir / 'sshd.pid'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes", f"AuthorizedKeysFile {self.authorized_keys}", "UsePAM no", "StrictModes no",
            "",
        ]))
        self.log = open(self.dir / "sshd.log", "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", NAMESPACE, "/usr/sbin/sshd", "-D", "-e", "-f",
                                      str(config)], stdout=self.log, stderr=self.log)
        eventually(lambda: self.proc.poll() is not None or banner(self.port), timeout=10, interval=0.05,
                   message="the test sshd to answer")
        assert self.proc.poll() is None, (self.dir / "sshd.log").read_text()
        return Path(f"{key}.pub")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop(self.proc)  # by PID, with its session children
        self.log.close()


@pytest.fixture
def sshd(lab, two_hosts, tmp_path):
    """Its virt-ssh-helper reaches this machine's libvirtd: the lab's, which must be up."""
    server = NamespaceSshd(tmp_path, f"{two_hosts['ssh_key']}.pub")
    yield server
    server.stop()


@pytest.fixture
def lab_ssh(two_hosts):
    ssh_dir = Path(two_hosts["ssh_key"]).parent
    return {"private_key": Path(two_hosts["ssh_key"]).read_text(), "host_pub": ssh_dir / "host_key.pub",
            "uri": f"qemu+ssh://root@{ADDRESS}/system"}


def assert_reachable(host):
    """Saved means virtdeck connected with these credentials; its sync can still miss the suite's 2 s SSH
    connect timeout on a loaded machine, so sync until it answers."""
    eventually(lambda: sync_host(host) is not None, timeout=60, interval=1, message=f"{host.name} reachable")
    host.refresh_from_db()
    assert host.state == Host.State.UP, host.last_error


def token_of(fragment):
    return re.search(r'name="ssh_host_key_token" value="([^"]+)"', fragment).group(1)


def test_it_fetches_the_host_key_as_openssh_reads_it(lab_ssh):
    offered = host_keys.fetch(ADDRESS)
    assert offered.fingerprint == openssh_fingerprint(lab_ssh["host_pub"])
    keytype, blob = lab_ssh["host_pub"].read_text().split()[:2]
    assert offered.line == f"{ADDRESS} {keytype} {blob}"


def test_it_pins_the_fetched_key_only_once_the_admin_confirms_it(admin_client, lab_ssh, tmp_path):
    fragment = admin_client.post("/hosts/ssh-host-key/", {"uri": lab_ssh["uri"]}).content.decode()
    fingerprint = openssh_fingerprint(lab_ssh["host_pub"])
    assert fingerprint in fragment and 'name="confirm_host_key"' in fragment
    form = {"transport": "ssh", "name": "hostA-ssh", "uri": lab_ssh["uri"], "ssh_private_key": lab_ssh["private_key"],
            "ssh_host_key_token": token_of(fragment)}

    unconfirmed = admin_client.post("/hosts/add/", form)
    assert unconfirmed.status_code == 200 and not Host.objects.exists()
    assert fingerprint in unconfirmed.context["form"].errors["ssh_known_hosts"][0]

    tampered = admin_client.post("/hosts/add/", form | {"confirm_host_key": "1",
                                                        "ssh_host_key_token": token_of(fragment)[:-2] + "xx"})
    assert "fetch it again" in tampered.context["form"].errors["ssh_known_hosts"][0] and not Host.objects.exists()

    other_host = admin_client.post("/hosts/add/", form | {"confirm_host_key": "1",
                                                          "uri": "qemu+ssh://root@10.77.0.2/system"})
    assert "not for this URI" in other_host.context["form"].errors["ssh_known_hosts"][0]

    response = admin_client.post("/hosts/add/", form | {"confirm_host_key": "1"})
    assert response.status_code == 302, response.context["form"].errors
    host = Host.objects.get(name="hostA-ssh")
    assert_reachable(host)
    pinned = tmp_path / "pinned"
    pinned.write_text(host.ssh_known_hosts)
    assert openssh_fingerprint(pinned) == fingerprint  # what OpenSSH will check against
    assert call(host, lambda conn: conn.getHostname())


def test_it_logs_in_with_a_key_pair_it_generated(admin_client, sshd):
    host_pub = sshd.start("key1")
    fragment = admin_client.post("/hosts/ssh-key-pair/").content.decode()
    public_line = re.search(r'id="ssh-public-key">([^<]+)</textarea>', fragment).group(1).strip()
    assert public_line.startswith("ssh-ed25519 ") and "PRIVATE" not in fragment
    sshd.authorized_keys.write_text(public_line + "\n")  # what the admin puts on the host
    uri = f"qemu+ssh://root@{ADDRESS}:{sshd.port}/system"
    offered = admin_client.post("/hosts/ssh-host-key/", {"uri": uri}).content.decode()
    assert openssh_fingerprint(host_pub) in offered
    response = admin_client.post("/hosts/add/", {
        "transport": "ssh", "name": "generated", "uri": uri, "ssh_host_key_token": token_of(offered),
        "confirm_host_key": "1",
        "generated_key_token": re.search(r'name="generated_key_token" value="([^"]+)"', fragment).group(1)})
    assert response.status_code == 302, response.context["form"].errors
    host = Host.objects.get(name="generated")
    assert host_keys.public_line(host.ssh_private_key) == public_line
    assert_reachable(host)


def test_it_refuses_a_changed_host_key_loudly_until_an_admin_accepts_it(admin_client, api, lab_ssh, sshd):
    old_pub = sshd.start("key1")
    uri = f"qemu+ssh://root@{ADDRESS}:{sshd.port}/system"
    offered = api.post("/api/hosts/ssh-host-key/", {"uri": uri}, format="json").json()
    assert offered["fingerprint"] == openssh_fingerprint(old_pub)
    created = api.post("/api/hosts/", {"name": "rekeyed", "uri": uri, "ssh_private_key": lab_ssh["private_key"],
                                       "ssh_known_hosts": offered["known_hosts"]}, format="json")
    assert created.status_code == 201, created.content
    host = Host.objects.get(name="rekeyed")

    sshd.stop()  # the host is reinstalled (or impersonated): another host key on the same address
    new_pub = sshd.start("key2")
    old, new = openssh_fingerprint(old_pub), openssh_fingerprint(new_pub)
    reconnect(host)

    def refused_naming_both_keys():
        # A loaded machine can time out before ssh reports the key: sync again until it does.
        assert sync_host(host) is None, "connected although the host key changed"
        host.refresh_from_db()
        return old in host.last_error and new in host.last_error

    eventually(refused_naming_both_keys, timeout=60, interval=1, message="refused, naming both keys")
    assert host.state == Host.State.UNREACHABLE and "until an admin" in host.last_error

    page = admin_client.get(f"/hosts/{host.pk}/").content.decode()
    assert f"/hosts/{host.pk}/host-key/" in page and new in page
    check = admin_client.get(f"/hosts/{host.pk}/host-key/").content.decode()
    assert old in check and new in check
    api_view = api.get(f"/api/hosts/{host.pk}/host-key/").json()
    assert api_view["changed"] is True and api_view["pinned"] == [old] and api_view["offered"]["fingerprint"] == new

    # Not accepted: without the confirmation, or through the API with another fingerprint than offered.
    token = re.search(r'name="token" value="([^"]+)"', check).group(1)
    admin_client.post(f"/hosts/{host.pk}/host-key/", {"token": token})
    wrong = api.post(f"/api/hosts/{host.pk}/host-key/", {"fingerprint": old}, format="json")
    assert wrong.status_code == 400 and "fingerprint" in wrong.json()
    host.refresh_from_db()
    assert host.state == Host.State.UNREACHABLE and openssh_fingerprint_of_text(host.ssh_known_hosts) == old

    accepted = admin_client.post(f"/hosts/{host.pk}/host-key/", {"token": token, "confirm_host_key": "1"})
    assert accepted.status_code == 302
    host.refresh_from_db()
    assert openssh_fingerprint_of_text(host.ssh_known_hosts) == new
    assert_reachable(host)


def openssh_fingerprint_of_text(known_hosts):
    path = Path(subprocess.run(["mktemp"], capture_output=True, text=True, check=True).stdout.strip())
    try:
        path.write_text(known_hosts)
        return openssh_fingerprint(path)
    finally:
        path.unlink()
