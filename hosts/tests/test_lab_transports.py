"""Remote transports for real, against the lab libvirtd, registered through POST /api/hosts/.

- qemu+ssh (OpenSSH client, known_hosts pinned by virtdeck's command= wrapper) and
  qemu+libssh (known_hosts=, known_hosts_verify=normal) through a private sshd on
  127.0.0.1 with key-only root login; the remote side is virt-ssh-helper, which talks to
  the lab libvirtd on qemu:///system.
- qemu+tls with the lab's CA and client certificate (lab/up makes them with lab/pki; the
  lab libvirtd requires a client certificate: tls_no_verify_certificate = 0).

A host key or certificate that does not match is refused with libvirt's message and
nothing is saved. ~/.ssh is never read for trust nor written.
"""
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest
from django.conf import settings

from core.testing import eventually, free_port
from hosts.connection import call, connection_spec
from hosts.credentials import forget_credentials
from hosts.models import Host
from hosts.sync import sync_host
from instances.models import Instance
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db]

LIST = "/api/hosts/"
ROOT = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"


# --- helpers ---------------------------------------------------------------------------

def keygen(path, comment):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)
    return path


def ssh_banner(port):
    """The SSH identification string on PORT, or None if nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return None


def children(pid):
    """PIDs whose parent is PID (sshd's per-connection processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def stop(proc):
    """TERM the process (and sshd's session children) by PID; KILL after 10 s."""
    for child in children(proc.pid):
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def known_hosts_line(port, pub_path):
    keytype, blob = Path(pub_path).read_text().split()[:2]
    return f"[127.0.0.1]:{port} {keytype} {blob}"


def lab_domains(conn):
    return {(d.UUIDString(), d.name()) for d in conn.listAllDomains()}


def virtdeck_domains(host):
    return {(str(u), n) for u, n in Instance.objects.filter(host=host).values_list("uuid", "name")}


def assert_same_domains(host, conn, must_include):
    """virtdeck's inventory of HOST equals the lab seen directly (retried: others share the lab)."""

    def same():
        sync_host(host)
        seen, direct = virtdeck_domains(host), lab_domains(conn)
        return seen == direct and must_include in seen

    eventually(same, timeout=15, interval=0.1,
               message=f"{host.uri} lists the lab's domains (virtdeck {virtdeck_domains(host)} "
                       f"vs lab {lab_domains(conn)})")


def credential_dirs():
    root = Path(settings.STATE_DIR) / "credentials"
    return set(root.iterdir()) if root.exists() else set()


def add_host(api, name, uri, **credentials):
    before = credential_dirs()
    response = api.post(LIST, {"name": name, "uri": uri, **credentials}, format="json")
    response.new_credential_dirs = credential_dirs() - before
    return response


def assert_up(response, lab_conn, lab_dom):
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "up" and body["last_error"] == ""
    assert body["facts"]["driver"] == "QEMU" and body["facts"]["tcg"] is True
    assert f"<uuid>{body['facts']['uuid']}</uuid>" in lab_conn.getCapabilities()  # the lab host itself
    host = Host.objects.get(pk=body["id"])
    assert_same_domains(host, lab_conn, (lab_dom.UUIDString(), lab_dom.name()))
    return host


def assert_refused(response, *fragments):
    """Refused with libvirt's words, nothing saved, and no credential files left behind."""
    assert response.status_code == 503, response.content
    detail = response.json()["detail"]
    assert any(f.lower() in detail.lower() for f in fragments), detail
    assert not Host.objects.exists()
    assert not response.new_credential_dirs  # the refused host's key files are gone too
    return detail


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab_conn(lab):
    conn = libvirt.open(lab["uri"])
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def lab_dom(lab_conn, tmp_path_factory):
    """A defined (not running) lab guest, so every listing has at least one known domain."""
    name = f"vd-transport-{uuid.uuid4().hex[:8]}"
    disks = tmp_path_factory.mktemp("disks")
    dom = lab_conn.defineXML(guest.domain_xml(name, guest.make_disk(disks, name)))
    yield dom
    try:
        dom.undefine()
    except libvirt.libvirtError:
        pass


@pytest.fixture(scope="module", autouse=True)
def home_ssh_untouched():
    """Trust never comes from, nor goes to, ~/.ssh (OpenSSH and libssh use the passwd home)."""
    ssh_dir = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh"

    def snapshot():
        if not ssh_dir.is_dir():
            return None
        return {p.name: p.read_bytes() for p in sorted(ssh_dir.iterdir()) if p.is_file()}

    before = snapshot()
    yield
    assert snapshot() == before, f"{ssh_dir} changed"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A private sshd on 127.0.0.1 (foreground, own config and host key, key-only root login)."""
    tmp = tmp_path_factory.mktemp("sshd")
    host_key = keygen(tmp / "host_key", "virtdeck-test-sshd")
    client_key = keygen(tmp / "client_key", "virtdeck-test-client")
    other_host_key = keygen(tmp / "other_host_key", "not-the-sshd")
    other_client_key = keygen(tmp / "other_client_key", "not-authorized")
    (tmp / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    # Privilege separation directory: must exist, root-owned, not group/world writable.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    for _attempt in range(3):  # a free port can be taken between probing and binding
        port = free_port()
        config = tmp / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\n"
            f"Port {port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {tmp / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {tmp / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "X11Forwarding no\n"
            "AllowTcpForwarding no\n"
            "PrintMotd no\n"
            "LogLevel INFO\n"
        )
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True, capture_output=True)
        log = open(tmp / "sshd.log", "ab")
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        with contextlib.suppress(AssertionError):  # judged right below
            eventually(lambda: proc.poll() is not None or ssh_banner(port), timeout=10, interval=0.02)
        if proc.poll() is None and ssh_banner(port):
            break
        stop(proc)
    else:
        pytest.fail(f"sshd did not start:\n{(tmp / 'sshd.log').read_text()}")

    yield {
        "port": port,
        "private_key": client_key.read_text(),
        "known_hosts": known_hosts_line(port, f"{host_key}.pub"),
        "wrong_known_hosts": known_hosts_line(port, f"{other_host_key}.pub"),
        "wrong_private_key": other_client_key.read_text(),
        "log": tmp / "sshd.log",
    }
    stop(proc)


@pytest.fixture(scope="module")
def pki(lab, tmp_path_factory):
    """The lab's TLS material, plus two untrusted CAs made by lab/pki."""
    lab_pki = Path(lab["dir"]) / "pki"
    tls_uri = f"qemu+tls://127.0.0.1:{lab['tls_port']}/system"
    probe = subprocess.run(["virsh", "-q", "-c", f"{tls_uri}?pkipath={lab_pki}", "version"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"the lab libvirtd does not answer on TLS ({probe.stderr.strip()}); a lab started by an "
                    "older lab/up has no TLS listener: lab/down && lab/up")
    read = lambda d, f: (Path(d) / f).read_text()  # noqa: E731
    other = tmp_path_factory.mktemp("pki") / "other"
    subprocess.run([str(ROOT / "lab" / "pki"), str(other)], check=True, capture_output=True)
    # A forged CA: the lab CA's very name, another key. A client certificate it signs is
    # offered to the server (GnuTLS picks client certificates by the issuer names the
    # server asks for), so only the server's signature check can refuse it.
    subject = subprocess.run(["openssl", "x509", "-in", str(lab_pki / "cacert.pem"), "-noout", "-subject",
                              "-nameopt", "compat"], check=True, capture_output=True, text=True)
    forged = tmp_path_factory.mktemp("pki") / "forged"
    subprocess.run([str(ROOT / "lab" / "pki"), str(forged), subject.stdout.strip().removeprefix("subject=")],
                   check=True, capture_output=True)
    return {
        "uri": tls_uri,
        "log": Path(lab["dir"]) / "libvirtd.log",
        "lab": {"tls_ca_cert": read(lab_pki, "cacert.pem"), "tls_client_cert": read(lab_pki, "clientcert.pem"),
                "tls_client_key": read(lab_pki, "clientkey.pem")},
        "other": {f: read(other, f) for f in ("cacert.pem", "clientcert.pem", "clientkey.pem")},
        "forged": {f: read(forged, f) for f in ("cacert.pem", "clientcert.pem", "clientkey.pem")},
    }


# --- SSH -------------------------------------------------------------------------------

SSH_SCHEMES = ["qemu+ssh", "qemu+libssh"]
# libvirt's libssh client (9.0; the code is unchanged in later releases) asks only its own
# read-ahead buffer whether data already arrived (virNetLibsshSessionHasCachedData), not
# libssh's: the rest of a reply of a few KiB (capabilities: 11 KiB) then waits there until
# the keepalive timer wakes the client loop. Each such call takes the keepalive interval
# (5 s in virt.connection): reading facts exceeds the call timeout, registration fails.
def ssh_uri(scheme, sshd):
    return f"{scheme}://root@127.0.0.1:{sshd['port']}/system"


@pytest.mark.parametrize("scheme", SSH_SCHEMES)
def test_it_brings_up_an_ssh_host_with_its_host_key_pinned(api, sshd, lab_conn, lab_dom, scheme):
    response = add_host(api, scheme, ssh_uri(scheme, sshd),
                        ssh_private_key=sshd["private_key"], ssh_known_hosts=sshd["known_hosts"])
    host = assert_up(response, lab_conn, lab_dom)
    assert host.uri == ssh_uri(scheme, sshd)  # credentials stay out of the stored URI

    # What pins the key: libssh reads known_hosts= itself; OpenSSH ignores it, so virtdeck
    # runs ssh through a wrapper with UserKnownHostsFile and StrictHostKeyChecking=yes.
    uri = connection_spec(host).uri
    if scheme == "qemu+libssh":
        assert "known_hosts_verify=normal" in uri and "sshauth=privkey" in uri
    else:
        wrapper = Path(uri.split("command=", 1)[1].split("&", 1)[0])
        assert "StrictHostKeyChecking=yes" in wrapper.read_text() and oct(wrapper.stat().st_mode)[-3:] == "700"
    assert "Accepted publickey for root from 127.0.0.1" in sshd["log"].read_text()
    # libvirt does not report the kernel: virtdeck read it over the same pinned SSH ("uname -sr").
    assert host.facts["kernel"] == f"{os.uname().sysname} {os.uname().release}"
    assert sshd["log"].read_text().count("Accepted publickey") >= 2  # libvirt's session and uname's


def test_it_authenticates_over_libssh_with_the_pinned_key(sshd, lab_conn, lab_dom):
    # Through virtdeck's pool and credential files, on an unsaved host; replies stay small.
    scheme = "qemu+libssh"
    host = Host(name="libssh", uri=ssh_uri(scheme, sshd), ssh_private_key=sshd["private_key"],
                ssh_known_hosts=sshd["known_hosts"])
    assert call(host, lambda conn: conn.getType()) == "QEMU"
    expected = (lab_dom.UUIDString(), lab_dom.name())
    eventually(lambda: expected in (listed := call(host, lab_domains)) and listed == lab_domains(lab_conn),
               timeout=15, interval=0.1, message="qemu+libssh lists the lab's domains")
    assert not Host.objects.exists()


@pytest.mark.parametrize("scheme", SSH_SCHEMES)
def test_it_refuses_an_ssh_host_with_another_host_key(api, sshd, scheme):
    response = add_host(api, scheme, ssh_uri(scheme, sshd),
                        ssh_private_key=sshd["private_key"], ssh_known_hosts=sshd["wrong_known_hosts"])
    assert_refused(response, "host key verification failed")


@pytest.mark.parametrize("scheme", SSH_SCHEMES)
def test_it_refuses_an_ssh_host_that_rejects_the_key(api, sshd, scheme):
    response = add_host(api, scheme, ssh_uri(scheme, sshd),
                        ssh_private_key=sshd["wrong_private_key"], ssh_known_hosts=sshd["known_hosts"])
    # OpenSSH: "Permission denied (publickey)"; libssh: "failed to authenticate: Access denied".
    assert_refused(response, "Permission denied (publickey)", "failed to authenticate")


# --- TLS -------------------------------------------------------------------------------

def test_it_brings_up_a_tls_host_with_the_lab_certificates(api, pki, lab_conn, lab_dom):
    response = add_host(api, "tls", pki["uri"], **pki["lab"])
    host = assert_up(response, lab_conn, lab_dom)
    assert host.uri == pki["uri"] and "pkipath=" in connection_spec(host).uri


def test_it_refuses_a_client_certificate_from_another_ca(api, pki):
    # The client itself will not present a certificate the CA it trusts did not sign.
    credentials = {**pki["lab"], "tls_client_cert": pki["other"]["clientcert.pem"],
                   "tls_client_key": pki["other"]["clientkey.pem"]}
    detail = assert_refused(add_host(api, "tls-other-ca", pki["uri"], **credentials), "failed validation")
    assert "hasn't got a known issuer" in detail


def test_it_is_refused_by_the_server_with_a_forged_ca_certificate(api, pki):
    # Trusting the forged CA as well gets the forged certificate past the client's own
    # check and onto the wire: the lab libvirtd verifies it against its CA and hangs up.
    log = pki["log"]
    offset = log.stat().st_size
    credentials = {"tls_ca_cert": pki["lab"]["tls_ca_cert"] + pki["forged"]["cacert.pem"],
                   "tls_client_cert": pki["forged"]["clientcert.pem"],
                   "tls_client_key": pki["forged"]["clientkey.pem"]}
    assert_refused(add_host(api, "tls-forged", pki["uri"], **credentials), "Unable to read TLS confirmation")

    def server_said():
        with open(log, "rb") as f:
            f.seek(offset)
            return b"Certificate failed validation: The certificate hasn't got a known issuer" in f.read()

    eventually(server_said, timeout=5, message="the lab libvirtd logs why it refused the certificate")


def test_it_refuses_a_server_certificate_from_another_ca(api, pki):
    # The client pins the CA too: the lab's server certificate is not signed by this one.
    credentials = {"tls_ca_cert": pki["other"]["cacert.pem"], "tls_client_cert": pki["other"]["clientcert.pem"],
                   "tls_client_key": pki["other"]["clientkey.pem"]}
    assert_refused(add_host(api, "tls-untrusted-server", pki["uri"], **credentials),
                   "Failed to verify peer's certificate")


# --- where credential files live is never shown ----------------------------------------

BROKEN_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbroken"


def assert_no_credential_path(detail):
    assert str(settings.STATE_DIR) not in detail and "/credentials/" not in detail, detail


def test_it_names_a_bad_ca_certificate_without_its_path(api, pki):
    response = add_host(api, "tls-garbage-ca", pki["uri"], **{**pki["lab"], "tls_ca_cert": "not a certificate"})
    assert response.status_code == 503, response.content
    detail = response.json()["detail"]
    assert "[credentials]/cacert.pem" in detail
    assert_no_credential_path(detail)


@pytest.mark.parametrize("scheme", SSH_SCHEMES)
def test_it_names_a_broken_ssh_key_without_its_path(api, sshd, scheme):
    response = add_host(api, scheme, ssh_uri(scheme, sshd), ssh_private_key=BROKEN_KEY,
                        ssh_known_hosts=sshd["known_hosts"])
    assert response.status_code == 503, response.content
    assert_no_credential_path(response.json()["detail"])
    assert not Host.objects.exists()


def test_it_names_a_broken_ssh_key_without_its_path_in_host_commands(sshd):
    from hosts import shell

    host = Host(name="broken-key", uri=ssh_uri("qemu+ssh", sshd), ssh_private_key=BROKEN_KEY,
                ssh_known_hosts=sshd["known_hosts"])
    with pytest.raises(shell.HostShellError) as raised:
        shell.run(host, ["true"])
    assert "[credentials]/id_key" in str(raised.value)
    assert_no_credential_path(str(raised.value))
    forget_credentials(host)
