"""`<network>` (libvirt's formatnetwork.html): the mapping, the mode it describes, and a checked builder.

virtdeck speaks of six modes, each one libvirt forward setup:

- nat: `<forward mode='nat'/>` + a bridge libvirt makes + an IPv4 subnet (MASQUERADE to the host's uplinks)
- route: `<forward mode='route'/>`: routed, no address rewriting (the LAN needs a route back)
- open: `<forward mode='open'/>`: routed, and libvirt adds no firewall rules at all
- isolated: no `<forward>`: guests reach each other and the host, nothing else
- bridge: `<forward mode='bridge'/>` + `<bridge name=...>`: an existing host bridge (no addresses, no DHCP)
- macvtap: `<forward mode='bridge|private|vepa|passthrough'>` + `<interface dev=...>`: direct on a host NIC

`build_network()` checks everything a person types before libvirt sees it; `network_overlaps()`
compares subnets with the host's other networks (libvirt checks only against host routes, at start).
"""
import ipaddress
import re

from ..errors import InvalidConfig
from ..names import check_name
from .base import XMLChildren, XMLObject, XMLProperty
from ..i18n import _, gettext_noop

MODES = ("nat", "route", "open", "isolated", "bridge", "macvtap")
MACVTAP_MODES = ("bridge", "private", "vepa", "passthrough")
# Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace; virtdeck keeps to a safe set.
_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
MAX_STATIC_HOSTS = 1024


class DHCPRangeXML(XMLObject):
    ROOT_TAG = "range"
    start = XMLProperty("./@start")
    end = XMLProperty("./@end")


class DHCPHostXML(XMLObject):
    """A static lease: `<host mac='..' name='..' ip='..'/>` (IPv6 hosts use `id` instead of mac)."""

    ROOT_TAG = "host"
    mac = XMLProperty("./@mac")
    name = XMLProperty("./@name")
    ip = XMLProperty("./@ip")


class IPXML(XMLObject):
    """`<ip address='..' prefix='..' family='ipv6'>` with its DHCP; IPv4 may give a netmask instead."""

    ROOT_TAG = "ip"
    family = XMLProperty("./@family")
    address = XMLProperty("./@address")
    prefix = XMLProperty("./@prefix", int)
    netmask = XMLProperty("./@netmask")
    dhcp_ranges = XMLChildren("./dhcp/range", DHCPRangeXML)
    dhcp_hosts = XMLChildren("./dhcp/host", DHCPHostXML)

    @property
    def interface(self):
        """The address with its subnet (ipaddress.ip_interface), or None when it cannot be read."""
        if not self.address:
            return None
        try:
            if self.prefix is not None:
                return ipaddress.ip_interface(f"{self.address}/{self.prefix}")
            if self.netmask:
                return ipaddress.ip_interface(f"{self.address}/{self.netmask}")
            return ipaddress.ip_interface(self.address)
        except ValueError:
            return None


class DNSHostXML(XMLObject):
    ROOT_TAG = "host"
    ip = XMLProperty("./@ip")
    hostname = XMLProperty("./hostname")


class ForwardInterfaceXML(XMLObject):
    ROOT_TAG = "interface"
    dev = XMLProperty("./@dev")


class NetworkXML(XMLObject):
    ROOT_TAG = "network"
    ORDER = ("name", "uuid", "metadata", "forward", "bridge", "mtu", "mac", "domain", "dns", "ip", "route")

    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    forward_mode = XMLProperty("./forward/@mode")
    forward_dev = XMLProperty("./forward/@dev")
    forward_interfaces = XMLChildren("./forward/interface", ForwardInterfaceXML)
    bridge = XMLProperty("./bridge/@name")
    bridge_stp = XMLProperty("./bridge/@stp", "onoff")
    bridge_delay = XMLProperty("./bridge/@delay", int)
    mac = XMLProperty("./mac/@address")
    domain_name = XMLProperty("./domain/@name")
    dns_hosts = XMLChildren("./dns/host", DNSHostXML)
    ips = XMLChildren("./ip", IPXML)

    @property
    def mode(self):
        """The virtdeck mode (MODES), or libvirt's own forward mode for the ones virtdeck does not create
        (hostdev)."""
        forward = self.forward_mode
        if forward is None and self.element.find("forward") is not None:
            forward = "nat"  # <forward/> without a mode is NAT in libvirt
        if forward is None:
            return "isolated"
        if forward in ("nat", "route", "open"):
            return forward
        if forward == "bridge" and self.bridge:
            return "bridge"
        if forward in MACVTAP_MODES:
            return "macvtap"
        return forward

    @property
    def macvtap_mode(self):
        return self.forward_mode if self.mode == "macvtap" else None

    @property
    def uplinks(self):
        """The host NICs a macvtap network (or a route/nat network with dev=) sends through."""
        devices = [interface.dev for interface in self.forward_interfaces if interface.dev]
        if self.forward_dev and self.forward_dev not in devices:
            devices.insert(0, self.forward_dev)
        return devices

    def ip(self, family):
        """The first `<ip>` of family "ipv4" or "ipv6"."""
        for ip in self.ips:
            if (ip.family or "ipv4") == family:
                return ip
        return None


# --------------------------------------------------------------------------- checks

def check_ifname(value, field):
    if not isinstance(value, str) or not _IFNAME.match(value):
        raise InvalidConfig(_("{field}: {value!r} is not a valid interface name (1 to 15 letters, digits, '_', "
                              "'.', '-').")
                            .format(field=field, value=str(value)[:40]))
    return value


def check_mac(value, field="mac"):
    text = value.lower() if isinstance(value, str) else value
    if not isinstance(text, str) or not _MAC.match(text):
        raise InvalidConfig(_("{field}: {value!r} is not a MAC address like 52:54:00:12:34:56.")
                            .format(field=field, value=str(value)[:40]))
    if int(text[:2], 16) & 1:
        raise InvalidConfig(_("{field}: {value} is a multicast address; a NIC needs a unicast one.")
                            .format(field=field, value=value))
    return text


def check_hostname(value, field):
    if not isinstance(value, str) or not _HOSTNAME.match(value):
        raise InvalidConfig(_("{field}: {value!r} is not a valid host name.")
                            .format(field=field, value=str(value)[:40]))
    return value


def _subnet(field, address, prefix, version):
    """The gateway interface (address/prefix) of a new subnet, checked."""
    if isinstance(prefix, bool) or not isinstance(prefix, int):
        raise InvalidConfig(_("{field}_prefix: expected a whole number, got {prefix!r}.")
                            .format(field=field, prefix=prefix))
    low, high = 8, (30 if version == 4 else 126)  # a subnet with room for the host and at least one guest
    if not low <= prefix <= high:
        raise InvalidConfig(_("{field}_prefix: expected {low} to {high} for IPv{version}, got {prefix}.")
                            .format(field=field, low=low, high=high, version=version, prefix=prefix))
    try:
        interface = ipaddress.ip_interface(f"{address}/{prefix}")
    except ValueError:
        raise InvalidConfig(_("{field}_address: {address!r} is not an IPv{version} address.")
                            .format(field=field, address=str(address)[:60], version=version)) from None
    if interface.version != version:
        raise InvalidConfig(_("{field}_address: {address} is not an IPv{version} address.")
                            .format(field=field, address=address, version=version))
    network = interface.network
    if interface.ip in (network.network_address, network.broadcast_address):
        raise InvalidConfig(_("{field}_address: {ip} is the subnet's own network or broadcast address; the host "
                              "needs one of its usable addresses.")
                            .format(field=field, ip=interface.ip))
    if interface.ip.is_multicast or interface.ip.is_loopback or interface.ip.is_unspecified:
        raise InvalidConfig(_("{field}_address: {ip} cannot be a network's address.")
                            .format(field=field, ip=interface.ip))
    return interface


def _in_subnet(field, value, interface):
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidConfig(_("{field}: {value!r} is not an IP address.")
                            .format(field=field, value=str(value)[:60])) from None
    network = interface.network
    if address not in network or address in (network.network_address, network.broadcast_address):
        raise InvalidConfig(_("{field}: {address} is outside the usable addresses of {network}.")
                            .format(field=field, address=address, network=network))
    if address == interface.ip:
        raise InvalidConfig(_("{field}: {address} is the host's own address on this network.")
                            .format(field=field, address=address))
    return address


def _dhcp(ip, family, interface, start, end):
    if not start and not end:
        return
    if not (start and end):
        raise InvalidConfig(_("{family}_dhcp: give both the start and the end of the DHCP range.")
                            .format(family=family))
    first = _in_subnet("dhcp_start" if family == "ipv4" else "ipv6_dhcp_start", start, interface)
    last = _in_subnet("dhcp_end" if family == "ipv4" else "ipv6_dhcp_end", end, interface)
    if first > last:
        raise InvalidConfig(_("dhcp_end: {last} comes before the range's start {first}.")
                            .format(last=last, first=first))
    if first <= interface.ip <= last:
        raise InvalidConfig(_("dhcp_start: the range {first}-{last} holds the host's own address {ip}.")
                            .format(first=first, last=last, ip=interface.ip))
    dhcp_range = ip.dhcp_ranges.add()
    dhcp_range.start, dhcp_range.end = str(first), str(last)


def _static_hosts(ip, interface, hosts):
    if not hosts:
        return
    if not isinstance(hosts, (list, tuple)) or len(hosts) > MAX_STATIC_HOSTS:
        raise InvalidConfig(_("static_hosts: expected a list of at most {most} entries.")
                            .format(most=MAX_STATIC_HOSTS))
    if not ip.dhcp_ranges:
        raise InvalidConfig(_("static_hosts: static leases need DHCP on the IPv4 subnet (a DHCP range)."))
    macs, addresses, names = set(), set(), set()
    for index, entry in enumerate(hosts):
        field = f"static_hosts[{index}]"
        if not isinstance(entry, dict) or not entry.get("mac") or not entry.get("ip"):
            raise InvalidConfig(_("{field}: expected {{'mac', 'ip', optional 'name'}}.").format(field=field))
        mac = check_mac(entry["mac"], f"{field}.mac")
        address = _in_subnet(f"{field}.ip", entry["ip"], interface)
        name = check_hostname(entry["name"], f"{field}.name") if entry.get("name") else None
        for value, seen, what in ((mac, macs, gettext_noop("MAC")), (address, addresses, gettext_noop("address")),
                                (name, names, gettext_noop("name"))):
            if value is not None and value in seen:
                raise InvalidConfig(_("{field}: the {what} {value} is given twice.")
                                    .format(field=field, what=_(what), value=value))
            seen.add(value)
        host = ip.dhcp_hosts.add()
        host.mac, host.ip = mac, str(address)
        if name:
            host.name = name


def build_network(name, mode, *, bridge=None, forward_dev=None, macvtap_mode="bridge",
                  ipv4_address=None, ipv4_prefix=None, dhcp_start=None, dhcp_end=None,
                  ipv6_address=None, ipv6_prefix=None, static_hosts=None, dns_hosts=None, domain_name=None):
    """A new `<network>` of `mode` (MODES), checked: InvalidConfig names the field at fault.

    bridge: for nat/route/open/isolated the name of the bridge libvirt creates (libvirt picks virbrN when
    None); for bridge mode the existing host bridge. forward_dev: the uplink (route/nat: optional, restricts
    forwarding to it; macvtap: required). dns_hosts: [{"ip", "hostname"}].
    """
    check_name(name, gettext_noop("network name"))
    if mode not in MODES:
        raise InvalidConfig(_("mode: unknown network mode {mode!r}; expected one of {choices}.")
                            .format(mode=mode, choices=', '.join(MODES)))
    network = NetworkXML()
    network.name = name
    routed = mode in ("nat", "route", "open", "isolated")
    given_ip = any(v not in (None, "", [], ()) for v in (ipv4_address, ipv6_address, dhcp_start, dhcp_end, static_hosts))
    if not routed and given_ip:
        raise InvalidConfig(_("ipv4_address: a {mode} network has no addresses of its own: the guests sit on the "
                              "host's LAN, whose DHCP serves them.")
                            .format(mode=mode))
    if mode == "bridge":
        if not bridge:
            raise InvalidConfig(_("bridge: a bridge network needs the name of an existing host bridge."))
        network.forward_mode = "bridge"
        network.bridge = check_ifname(bridge, "bridge")
    elif mode == "macvtap":
        if macvtap_mode not in MACVTAP_MODES:
            raise InvalidConfig(_("macvtap_mode: expected one of {choices}, got {macvtap_mode!r}.")
                                .format(choices=', '.join(MACVTAP_MODES), macvtap_mode=macvtap_mode))
        if not forward_dev:
            raise InvalidConfig(_("forward_dev: a macvtap network needs the host NIC its guests attach to."))
        network.forward_mode = macvtap_mode
        network.forward_interfaces.add().dev = check_ifname(forward_dev, "forward_dev")
    else:
        if mode != "isolated":
            network.forward_mode = mode
            if forward_dev:
                network.forward_dev = check_ifname(forward_dev, "forward_dev")
        elif forward_dev:
            raise InvalidConfig(_("forward_dev: an isolated network forwards nowhere."))
        if bridge:
            network.bridge = check_ifname(bridge, "bridge")
        network.bridge_stp = True
        network.bridge_delay = 0
        if mode in ("nat", "route", "open") and not (ipv4_address or ipv6_address):
            raise InvalidConfig(_("ipv4_address: a {mode} network needs a subnet to forward.").format(mode=mode))
        if mode == "nat" and not ipv4_address:
            raise InvalidConfig(_("ipv4_address: NAT rewrites IPv4 source addresses; give an IPv4 subnet."))
    if ipv4_address:
        interface = _subnet("ipv4", ipv4_address, ipv4_prefix, 4)
        ip = network.ips.add()
        ip.address, ip.prefix = str(interface.ip), interface.network.prefixlen
        _dhcp(ip, "ipv4", interface, dhcp_start, dhcp_end)
        _static_hosts(ip, interface, static_hosts)
    elif dhcp_start or dhcp_end or static_hosts:
        raise InvalidConfig(_("ipv4_address: DHCP and static leases need an IPv4 subnet."))
    if ipv6_address:
        interface = _subnet("ipv6", ipv6_address, ipv6_prefix, 6)
        ip = network.ips.add()
        ip.family, ip.address, ip.prefix = "ipv6", str(interface.ip), interface.network.prefixlen
    if domain_name:
        network.domain_name = check_hostname(domain_name, "domain_name")
    for index, entry in enumerate(dns_hosts or ()):
        field = f"dns_hosts[{index}]"
        if not isinstance(entry, dict) or not entry.get("ip") or not entry.get("hostname"):
            raise InvalidConfig(_("{field}: expected {{'ip', 'hostname'}}.").format(field=field))
        try:
            address = ipaddress.ip_address(entry["ip"])
        except ValueError:
            raise InvalidConfig(_("{field}.ip: {entry!r} is not an IP address.")
                                .format(field=field, entry=str(entry['ip'])[:60])) from None
        host = network.dns_hosts.add()
        host.ip, host.hostname = str(address), check_hostname(entry["hostname"], f"{field}.hostname")
    return network


def subnets(network):
    """The ip_network of every `<ip>` of a NetworkXML."""
    return [ip.interface.network for ip in network.ips if ip.interface is not None]


def network_overlaps(network, others):
    """(other name, their subnet) for the first subnet of `network` overlapping one of `others`
    ({name: [ip_network]}), or None. A network is not compared with itself."""
    for mine in subnets(network):
        for name, theirs in others.items():
            if name == network.name:
                continue
            for subnet in theirs:
                if subnet.version == mine.version and subnet.overlaps(mine):
                    return name, subnet
    return None
