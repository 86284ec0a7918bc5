"""virt networks against the real lab libvirtd: bridges, dnsmasq and firewall rules, checked with `ip`,
`iptables` and /proc directly (not through virtdeck).

Networks are named vd-test-<random> with subnets in 10.213.0.0/16 and removed at the end whatever happens;
no traffic is sent. A stopped NAT network leaves ip_forward=1 behind: the fixture puts back what it found.
libvirtd makes its LIBVIRT_* chains once per run and never again (removing them breaks every later
network start): lab/down removes them.
"""
import json
import os
import random
import subprocess
import uuid

import libvirt
import pytest

from core.testing import ip_forward_kept
from virt import networks
from virt.connection import ConnectionSpec, Pool
from virt.errors import VirtError
from virt.xml.network import build_network

pytestmark = pytest.mark.lab

_FORWARD = "/proc/sys/net/ipv4/ip_forward"


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def iptables_rules(table):
    return run("iptables", "-w", "-t", table, "-S")


def link(name):
    """`ip -j link show NAME` as a dict, or None when there is no such interface."""
    result = subprocess.run(["ip", "-j", "link", "show", "dev", name], capture_output=True, text=True)
    return json.loads(result.stdout)[0] if result.returncode == 0 else None


def dnsmasq_for(network_name):
    """PIDs of dnsmasq processes running with this network's configuration file."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dnsmasq") and any(arg.endswith(f"/{network_name}.conf".encode())
                                                            for arg in argv):
            found.append(int(entry))
    return found


@pytest.fixture
def lab_host(lab):
    pool = Pool(call_timeout=30.0)
    spec = ConnectionSpec(key="lab-networks", uri=lab["uri"])
    direct = libvirt.open(lab["uri"])
    made = []

    class Host:
        conn = direct

        def call(self, fn):
            return pool.call(spec, fn)

        def name(self):
            made.append(f"vd-test-{uuid.uuid4().hex[:8]}")
            return made[-1]

    with ip_forward_kept():
        yield Host()
        for name in made:
            networks.delete_network_if_present(direct, name)
    direct.close()
    pool.close_all()


def _subnet():
    return f"10.213.{random.randint(1, 254)}"


def test_it_starts_a_nat_network_with_bridge_dnsmasq_and_masquerade_all_gone_after_stop(lab_host):
    name, net, bridge = lab_host.name(), _subnet(), f"vdn{uuid.uuid4().hex[:6]}"
    xml = build_network(name, "nat", bridge=bridge, ipv4_address=f"{net}.1", ipv4_prefix=24,
                        dhcp_start=f"{net}.100", dhcp_end=f"{net}.150")
    record = lab_host.call(lambda conn: networks.define_network(conn, xml))
    assert record.active and record.bridge == bridge

    assert link(bridge) is not None and link(bridge)["link_type"] == "ether"
    addresses = json.loads(run("ip", "-j", "addr", "show", "dev", bridge))[0]["addr_info"]
    assert {(a["local"], a["prefixlen"]) for a in addresses if a["family"] == "inet"} == {(f"{net}.1", 24)}
    assert dnsmasq_for(name), "no dnsmasq runs for the network"
    nat = iptables_rules("nat")
    assert f"-s {net}.0/24 ! -d {net}.0/24 -j MASQUERADE" in nat
    assert open(_FORWARD).read().strip() == "1"

    record = lab_host.call(lambda conn: networks.stop_network(conn, name))
    assert not record.active
    assert link(bridge) is None
    assert dnsmasq_for(name) == []
    assert f"{net}.0/24" not in iptables_rules("nat")
    assert lab_host.conn.networkLookupByName(name).isActive() == 0


def test_it_gives_an_isolated_network_no_forwarding_rules(lab_host):
    name, net = lab_host.name(), _subnet()
    xml = build_network(name, "isolated", ipv4_address=f"{net}.1", ipv4_prefix=24)
    record = lab_host.call(lambda conn: networks.define_network(conn, xml))
    assert record.active and record.mode == "isolated"
    assert f"{net}.0/24" not in iptables_rules("nat")
    # Forwarding is refused both ways: libvirt's reject rules for the bridge, no accept for the subnet.
    filter_rules = iptables_rules("filter")
    assert f"-A LIBVIRT_FWO -s {net}.0/24" not in filter_rules
    assert f"-A LIBVIRT_FWX -i {record.bridge} -o {record.bridge} -j ACCEPT" in filter_rules


def test_it_removes_the_definition_when_the_network_cannot_start(lab_host):
    name = lab_host.name()
    # libvirt checks bridge names only against its other networks at define time; creating a bridge
    # named like the loopback device fails at start.
    xml = build_network(name, "isolated", bridge="lo", ipv4_address=f"{_subnet()}.1", ipv4_prefix=24)
    with pytest.raises(VirtError):
        lab_host.call(lambda conn: networks.define_network(conn, xml))
    assert name not in [network.name() for network in lab_host.conn.listAllNetworks(0)]
    assert link("lo")["flags"][:1] == ["LOOPBACK"]


def test_it_keeps_a_running_networks_live_config_until_it_restarts(lab_host):
    name, net = lab_host.name(), _subnet()
    xml = build_network(name, "isolated", ipv4_address=f"{net}.1", ipv4_prefix=24,
                        dhcp_start=f"{net}.10", dhcp_end=f"{net}.20")
    lab_host.call(lambda conn: networks.define_network(conn, xml))
    current = lab_host.call(lambda conn: networks.inactive_xml(conn, name))
    record = lab_host.call(lambda conn: networks.redefine_network(conn, name, current.replace(f"{net}.20", f"{net}.30")))
    assert record.dhcp_ranges == [f"{net}.10-{net}.20"]
    inactive = lab_host.conn.networkLookupByName(name).XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    assert f"{net}.30" in inactive
    lab_host.call(lambda conn: networks.stop_network(conn, name))
    assert lab_host.call(lambda conn: networks.start_network(conn, name)).dhcp_ranges == [f"{net}.10-{net}.30"]


def test_it_reads_no_leases_from_a_fresh_network(lab_host):
    name, net = lab_host.name(), _subnet()
    xml = build_network(name, "isolated", ipv4_address=f"{net}.1", ipv4_prefix=24,
                        dhcp_start=f"{net}.10", dhcp_end=f"{net}.20")
    lab_host.call(lambda conn: networks.define_network(conn, xml))
    assert lab_host.call(lambda conn: networks.leases(conn, name)) == []
