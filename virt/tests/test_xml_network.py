"""virt/xml/network.py: every mode's XML, the mode read back from libvirt's XML, and refused input."""
import ipaddress

import pytest

from virt.errors import InvalidConfig
from virt.xml.network import MODES, NetworkXML, build_network, network_overlaps


def _roundtrip(network):
    return NetworkXML.from_xml(network.to_xml())


def test_it_builds_a_nat_network_with_dhcp_and_static_hosts():
    network = build_network("lan1", "nat", bridge="vdbr1", ipv4_address="10.213.7.1", ipv4_prefix=24,
                            dhcp_start="10.213.7.100", dhcp_end="10.213.7.199",
                            static_hosts=[{"mac": "52:54:00:AA:00:01", "ip": "10.213.7.10", "name": "web1"}])
    parsed = _roundtrip(network)
    assert parsed.mode == "nat" and parsed.forward_mode == "nat"
    assert parsed.bridge == "vdbr1" and parsed.bridge_stp is True and parsed.bridge_delay == 0
    ip = parsed.ip("ipv4")
    assert (ip.address, ip.prefix) == ("10.213.7.1", 24)
    assert [(r.start, r.end) for r in ip.dhcp_ranges] == [("10.213.7.100", "10.213.7.199")]
    assert [(h.mac, h.ip, h.name) for h in ip.dhcp_hosts] == [("52:54:00:aa:00:01", "10.213.7.10", "web1")]


@pytest.mark.parametrize("mode", ["route", "open"])
def test_it_builds_routed_modes_with_an_optional_uplink(mode):
    parsed = _roundtrip(build_network("r", mode, forward_dev="eth0", ipv4_address="10.9.0.1", ipv4_prefix=16))
    assert parsed.mode == mode and parsed.forward_dev == "eth0" and parsed.uplinks == ["eth0"]


def test_it_builds_an_isolated_network_without_a_forward_element():
    parsed = _roundtrip(build_network("iso", "isolated", ipv4_address="10.10.0.1", ipv4_prefix=24))
    assert parsed.mode == "isolated"
    assert parsed.element.find("forward") is None


def test_it_builds_an_isolated_network_with_no_addresses_at_all():
    parsed = _roundtrip(build_network("iso", "isolated"))
    assert parsed.mode == "isolated" and len(parsed.ips) == 0


def test_it_builds_a_bridge_network_on_an_existing_host_bridge():
    parsed = _roundtrip(build_network("br", "bridge", bridge="br0"))
    assert (parsed.mode, parsed.forward_mode, parsed.bridge) == ("bridge", "bridge", "br0")
    assert len(parsed.ips) == 0


@pytest.mark.parametrize("macvtap_mode", ["bridge", "private", "vepa", "passthrough"])
def test_it_builds_macvtap_networks_in_each_mode(macvtap_mode):
    parsed = _roundtrip(build_network("mv", "macvtap", forward_dev="eth0", macvtap_mode=macvtap_mode))
    assert parsed.mode == "macvtap" and parsed.macvtap_mode == macvtap_mode
    assert parsed.uplinks == ["eth0"] and parsed.bridge is None


def test_it_builds_ipv6_beside_ipv4():
    parsed = _roundtrip(build_network("dual", "route", ipv4_address="10.1.2.1", ipv4_prefix=24,
                                      ipv6_address="fd00:1:2::1", ipv6_prefix=64))
    ip6 = parsed.ip("ipv6")
    assert (ip6.family, ip6.address, ip6.prefix) == ("ipv6", "fd00:1:2::1", 64)


def test_it_reads_libvirts_netmask_form_and_a_modeless_forward_as_nat():
    parsed = NetworkXML.from_xml("<network><name>d</name><forward/><ip address='192.168.122.1' "
                                 "netmask='255.255.255.0'/></network>")
    assert parsed.mode == "nat"
    assert parsed.ip("ipv4").interface == ipaddress.ip_interface("192.168.122.1/24")


def test_it_adds_dns_hosts_and_a_domain():
    parsed = _roundtrip(build_network("n", "nat", ipv4_address="10.3.0.1", ipv4_prefix=24, domain_name="lab.example",
                                      dns_hosts=[{"ip": "10.3.0.5", "hostname": "db"}]))
    assert parsed.domain_name == "lab.example"
    assert [(h.ip, h.hostname) for h in parsed.dns_hosts] == [("10.3.0.5", "db")]


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "a/b", "mode": "nat"}, "network name"),
    ({"name": "..", "mode": "nat"}, "network name"),
    ({"name": "n", "mode": "tunnel"}, "mode"),
    ({"name": "n", "mode": "nat"}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv6_address": "fd00::1", "ipv6_prefix": 64}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 33}, "ipv4_prefix"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": "24"}, "ipv4_prefix"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.0", "ipv4_prefix": 24}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "not-an-ip", "ipv4_prefix": 24}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "fd00::1", "ipv4_prefix": 24}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "127.0.0.1", "ipv4_prefix": 8}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24,
      "dhcp_start": "10.0.1.2", "dhcp_end": "10.0.1.9"}, "dhcp_start"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24,
      "dhcp_start": "10.0.0.9", "dhcp_end": "10.0.0.2"}, "dhcp_end"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24, "dhcp_start": "10.0.0.2"},
     "ipv4_dhcp"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.50", "ipv4_prefix": 24,
      "dhcp_start": "10.0.0.2", "dhcp_end": "10.0.0.99"}, "dhcp_start"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24, "dhcp_start": "10.0.0.2",
      "dhcp_end": "10.0.0.9", "static_hosts": [{"mac": "zz", "ip": "10.0.0.3"}]}, "static_hosts[0].mac"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24, "dhcp_start": "10.0.0.2",
      "dhcp_end": "10.0.0.9", "static_hosts": [{"mac": "01:00:5e:00:00:01", "ip": "10.0.0.3"}]},
     "static_hosts[0].mac"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24, "dhcp_start": "10.0.0.2",
      "dhcp_end": "10.0.0.9", "static_hosts": [{"mac": "52:54:00:00:00:01", "ip": "10.9.0.3"}]},
     "static_hosts[0].ip"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24, "dhcp_start": "10.0.0.2",
      "dhcp_end": "10.0.0.9", "static_hosts": [{"mac": "52:54:00:00:00:01", "ip": "10.0.0.3"},
                                                {"mac": "52:54:00:00:00:01", "ip": "10.0.0.4"}]},
     "static_hosts[1]"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24,
      "static_hosts": [{"mac": "52:54:00:00:00:01", "ip": "10.0.0.3"}]}, "static_hosts"),
    ({"name": "n", "mode": "nat", "bridge": "a" * 16, "ipv4_address": "10.0.0.1", "ipv4_prefix": 24}, "bridge"),
    ({"name": "n", "mode": "nat", "bridge": "br;rm", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24}, "bridge"),
    ({"name": "n", "mode": "bridge"}, "bridge"),
    ({"name": "n", "mode": "bridge", "bridge": "br0", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24},
     "ipv4_address"),
    ({"name": "n", "mode": "macvtap"}, "forward_dev"),
    ({"name": "n", "mode": "macvtap", "forward_dev": "eth0", "macvtap_mode": "loop"}, "macvtap_mode"),
    ({"name": "n", "mode": "macvtap", "forward_dev": "../eth0"}, "forward_dev"),
    ({"name": "n", "mode": "isolated", "forward_dev": "eth0"}, "forward_dev"),
    ({"name": "n", "mode": "isolated", "dhcp_start": "10.0.0.2", "dhcp_end": "10.0.0.3"}, "ipv4_address"),
    ({"name": "n", "mode": "nat", "ipv4_address": "10.0.0.1", "ipv4_prefix": 24,
      "dns_hosts": [{"ip": "10.0.0.5", "hostname": "bad name"}]}, "dns_hosts[0].hostname"),
])
def test_it_refuses_bad_input_naming_the_field(kwargs, field):
    with pytest.raises(InvalidConfig) as caught:
        build_network(**kwargs)
    assert field in str(caught.value)


def test_it_finds_overlapping_subnets_of_the_same_family_only():
    mine = build_network("new", "nat", ipv4_address="10.20.30.1", ipv4_prefix=24)
    others = {"default": [ipaddress.ip_network("192.168.122.0/24")],
              "wide": [ipaddress.ip_network("10.20.0.0/16")],
              "v6": [ipaddress.ip_network("fd00::/64")]}
    assert network_overlaps(mine, others) == ("wide", ipaddress.ip_network("10.20.0.0/16"))
    assert network_overlaps(mine, {"default": others["default"], "v6": others["v6"]}) is None
    assert network_overlaps(mine, {"new": [ipaddress.ip_network("10.20.30.0/24")]}) is None  # itself


def test_it_offers_six_modes():
    assert MODES == ("nat", "route", "open", "isolated", "bridge", "macvtap")
