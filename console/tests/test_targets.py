"""Where the proxy connects, by where the VNC server listens and how the host is reached."""
import pytest

from console.refusals import Refusal, Refused
from console.services import SshRoute, VncTarget, target_of
from virt.console import VncEndpoint
from virt.uri import parse


def uri(text):
    return parse(text)


@pytest.mark.parametrize(("endpoint", "host", "expected"), [
    (VncEndpoint("127.0.0.1", 5900), "qemu+tcp://127.0.0.1:16509/system", VncTarget("127.0.0.1", 5900)),
    (VncEndpoint(None, 5900), "qemu:///system", VncTarget("127.0.0.1", 5900)),
    (VncEndpoint("0.0.0.0", 5901), "qemu+tcp://kvm1.example/system", VncTarget("kvm1.example", 5901)),
    (VncEndpoint("::", 5901), "qemu+tls://kvm1.example/system", VncTarget("kvm1.example", 5901)),
    (VncEndpoint("0.0.0.0", 5901), "qemu:///system", VncTarget("127.0.0.1", 5901)),
    (VncEndpoint("192.0.2.9", 5902), "qemu+tcp://kvm1.example/system", VncTarget("192.0.2.9", 5902)),
    (VncEndpoint(socket="/run/v.sock"), "qemu:///system", VncTarget(socket="/run/v.sock")),
    (VncEndpoint("127.0.0.1", 5900, password="pw"), "qemu:///system", VncTarget("127.0.0.1", 5900, password="pw")),
])
def test_it_connects_where_this_machine_reaches_the_display(endpoint, host, expected):
    assert target_of(endpoint, uri(host)) == expected


@pytest.mark.parametrize("endpoint", [VncEndpoint("127.0.0.1", 5900), VncEndpoint(None, 5900),
                                      VncEndpoint(socket="/run/v.sock")])
def test_it_refuses_a_display_only_a_remote_host_itself_reaches(endpoint):
    with pytest.raises(Refused) as refused:
        target_of(endpoint, uri("qemu+tcp://kvm1.example/system"))
    assert refused.value.refusal == Refusal.UNREACHABLE and "kvm1.example" in refused.value.detail


@pytest.mark.parametrize(("endpoint", "address", "socket"), [(VncEndpoint("127.0.0.1", 5900), "127.0.0.1", None),
                                                              (VncEndpoint(None, 5901), "127.0.0.1", None),
                                                              (VncEndpoint(socket="/run/v.sock"), None, "/run/v.sock")])
def test_it_tunnels_over_ssh_to_a_display_on_the_hosts_loopback(endpoint, address, socket):
    class Host:
        ssh_private_key = "KEY"
        ssh_known_hosts = "[kvm1.example]:2222 ssh-ed25519 AAAA"

    target = target_of(endpoint, uri("qemu+ssh://admin@kvm1.example:2222/system"), Host())
    assert (target.address, target.port, target.socket) == (address, endpoint.port, socket)
    assert target.ssh == SshRoute("kvm1.example", 2222, "admin", "KEY", Host.ssh_known_hosts)
    assert "KEY" not in repr(target)


def test_it_reaches_a_display_listening_everywhere_on_an_ssh_host_directly():
    target = target_of(VncEndpoint("0.0.0.0", 5905), uri("qemu+ssh://root@kvm1.example/system"))
    assert target == VncTarget("kvm1.example", 5905)
