"""The VNC proxy through an SSH tunnel (asyncssh, direct-tcpip) to a lab host reached with qemu+ssh://, whose
VNC listens on the host's loopback only: the host's own key, its host key pinned."""
import asyncio
import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from console.refusals import Refusal
from core.testing import eventually, free_port
from hosts.tests.test_lab_transports import SSHD, keygen, known_hosts_line, ssh_banner, stop

from .test_lab_vnc import daphne, instance_of, open_console, screen_through_proxy, vnc_port  # noqa: F401
from .vnc_client import refusal_code

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def forwarding_sshd(tmp_path_factory):
    """A private sshd on 127.0.0.1 that allows TCP forwarding (hosts' sshd fixture does not), key-only root login."""
    tmp = tmp_path_factory.mktemp("sshd")
    host_key, client_key = keygen(tmp / "host_key", "virtdeck-sshd"), keygen(tmp / "client_key", "virtdeck")
    other_host_key = keygen(tmp / "other_host_key", "not-the-sshd")
    (tmp / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    port = free_port()
    config = tmp / "sshd_config"
    config.write_text(f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\nPidFile {tmp / 'sshd.pid'}\n"
                      f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
                      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                      "AllowTcpForwarding yes\nAllowStreamLocalForwarding yes\nLogLevel DEBUG1\n")
    log = open(tmp / "sshd.log", "ab")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    try:
        eventually(lambda: proc.poll() is not None or ssh_banner(port), timeout=10, message="sshd answers")
        assert proc.poll() is None, (tmp / "sshd.log").read_text()
        yield {"port": port, "private_key": client_key.read_text(), "log": tmp / "sshd.log",
               "known_hosts": known_hosts_line(port, f"{host_key}.pub"),
               "wrong_known_hosts": known_hosts_line(port, f"{other_host_key}.pub")}
    finally:
        with contextlib.suppress(Exception):
            stop(proc)


@pytest.fixture
def ssh_host(make_host, forwarding_sshd):
    return make_host("lab-ssh", uri=f"qemu+ssh://root@127.0.0.1:{forwarding_sshd['port']}/system",
                     ssh_private_key=forwarding_sshd["private_key"], ssh_known_hosts=forwarding_sshd["known_hosts"])


def test_it_tunnels_to_a_loopback_display_over_ssh(admin_user, ssh_host, forwarding_sshd, lab_guests, daphne):
    dom = lab_guests.define()
    vm = instance_of(ssh_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    width, height, name, rects, _ = asyncio.run(screen_through_proxy(url, daphne, cookie))
    assert name == f"QEMU ({dom.name()})" and rects >= 1
    # sshd itself says the bytes went through a forwarded channel to QEMU's VNC port on its loopback.
    port = vnc_port(dom)
    eventually(lambda: f"target 127.0.0.1 port {port}" in forwarding_sshd["log"].read_text(), timeout=5,
               message=f"sshd logged a direct-tcpip channel to port {port}")


def test_it_refuses_a_host_key_that_is_not_the_pinned_one(admin_user, ssh_host, forwarding_sshd, lab_guests, daphne):
    dom = lab_guests.define()
    vm = instance_of(ssh_host, dom)
    # The host's pinned key changes (libvirt's own connection stays up, so only the tunnel sees it).
    type(ssh_host).objects.filter(pk=ssh_host.pk).update(ssh_known_hosts=forwarding_sshd["wrong_known_hosts"])
    url, cookie = open_console(daphne, admin_user, vm)
    assert refusal_code(url, daphne, cookie) == Refusal.UNREACHABLE
