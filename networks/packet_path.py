"""The packet path of a VM's NIC: the hops a packet crosses on the host, with the firewall rules on the way.

`build_path()` is pure: from the NIC (the domain XML), its network row, the host's interfaces and firewall
(networks.hostnet) and the uplink (`ip route`), it lists the hops in order. Hops with an `interface` can be
captured by a trace (networks.tasks.TraceNIC).

    guest NIC -> tap (vnetN) -> bridge (virbrN) -> [filter FORWARD -> LIBVIRT_FW*] -> [nat POSTROUTING ->
    LIBVIRT_PRT: MASQUERADE] -> uplink (eth0)
"""
import ipaddress
import json
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from .choices import NetworkMode
from .hostnet import Chain

# The chains a forwarded packet of a libvirt network crosses, in order, per table.
FORWARD_CHAINS = ("FORWARD", "LIBVIRT_FWX", "LIBVIRT_FWI", "LIBVIRT_FWO")
NAT_CHAINS = ("POSTROUTING", "LIBVIRT_PRT")


@dataclass
class Hop:
    kind: str  # guest, tap, bridge, firewall, uplink, macvtap
    name: str  # what a person reads: the interface, or "nat POSTROUTING"
    detail: str  # one sentence: what happens to the packet here
    interface: str = ""  # a host interface a trace can capture on ("" for the guest and firewall hops)
    rules: list = field(default_factory=list)  # hostnet.Rule dicts with their counters (firewall hops)

    def as_dict(self):
        return asdict(self)


def _mentions(rule, words):
    parts = rule.spec.split()
    return any(word in parts for word in words)


def _matching_rules(chains, names, words):
    """Rules of `names` (in that order) that mention one of `words` (the bridge, the subnet) or jump into a
    libvirt chain, with the chain's name."""
    by_name = {chain.name: chain for chain in chains}
    found = []
    for name in names:
        chain = by_name.get(name)
        if not isinstance(chain, Chain):
            continue
        for rule in chain.rules:
            if _mentions(rule, words) or rule.target in names:
                found.append({"chain": name, **rule.as_dict()})
    return found


def _subnet(network):
    if not network.ipv4:
        return ""
    return str(ipaddress.ip_interface(network.ipv4).network)


def bridge_ports(interfaces, bridge, exclude=()):
    """The interfaces enslaved to `bridge` other than VM taps: its uplinks."""
    return [nic.name for nic in interfaces if nic.master == bridge and nic.name not in exclude
            and not nic.name.startswith(("vnet", "macvtap"))]


def build_path(nic, network, interfaces, firewall, uplink):
    """The hops of `nic` (an InterfaceXML of the domain's live XML).

    network: its networks.models.Network row (None for a NIC on a plain host bridge or a direct NIC);
    interfaces: [hostnet.Interface]; firewall: {table: [Chain]} (empty when unreadable); uplink: the host
    interface routing towards the destination (or the default route), "" when unknown.
    """
    tap = nic.target_dev or ""
    hops = [Hop("guest", nic.mac or "", _("The guest's %(model)s NIC sends the frame.")
                % {"model": nic.model or _("emulated")})]
    mode = network.mode if network is not None else ("macvtap" if nic.type == "direct" else "bridge")
    if mode == NetworkMode.MACVTAP or nic.type == "direct":
        device = nic.source_dev or (network.uplinks[0] if network is not None and network.uplinks else "")
        hops.append(Hop("macvtap", tap or "macvtap", _("A macvtap device hands the frame straight to the host "
                                                       "NIC: no bridge and no host firewall on the way."),
                        interface=tap))
        hops.append(Hop("uplink", device, _("Out on the LAN through the host NIC."), interface=device))
        return hops
    bridge = (network.bridge if network is not None else "") or nic.source_bridge or ""
    hops.append(Hop("tap", tap or _("(not running)"), _("The tap device on the host: what the guest sends "
                                                        "arrives here."), interface=tap))
    hops.append(Hop("bridge", bridge, _("The Linux bridge switches the frame to other guests or up to the host "
                                        "stack."), interface=bridge))
    if mode in (NetworkMode.BRIDGE,) or network is None:
        for port in bridge_ports(interfaces, bridge, exclude=(tap,)):
            hops.append(Hop("uplink", port, _("The bridge's port to the LAN: the frame leaves unchanged."),
                            interface=port))
        return hops
    if mode == NetworkMode.ISOLATED:
        hops.append(Hop("firewall", "filter FORWARD", _("Isolated: libvirt's rules reject anything forwarded in "
                                                         "or out; only guests and the host talk."),
                        rules=_matching_rules(firewall.get("filter", []), FORWARD_CHAINS, (bridge,))))
        return hops
    subnet = _subnet(network)
    words = tuple(word for word in (bridge, subnet) if word)
    if mode != NetworkMode.OPEN:
        hops.append(Hop("firewall", "filter FORWARD", _("The host routes the packet; libvirt's FORWARD rules "
                                                         "let the network's traffic out (and only replies in, "
                                                         "for NAT)."),
                        rules=_matching_rules(firewall.get("filter", []), FORWARD_CHAINS, words)))
    if mode == NetworkMode.NAT:
        hops.append(Hop("firewall", "nat POSTROUTING", _("MASQUERADE rewrites the source address to the "
                                                          "uplink's address; conntrack rewrites the replies "
                                                          "back."),
                        rules=_matching_rules(firewall.get("nat", []), NAT_CHAINS, words)))
    detail = {NetworkMode.NAT: _("Out through the uplink with the host's address as its source."),
              NetworkMode.ROUTE: _("Out through the uplink with the guest's own address: the LAN needs a route "
                                   "back to %(subnet)s via this host."),
              NetworkMode.OPEN: _("Out through the uplink unfiltered by libvirt, with the guest's own address.")}
    hops.append(Hop("uplink", uplink or _("(no route)"), detail[mode] % {"subnet": subnet or "-"}, interface=uplink))
    return hops


def parse_route(text):
    """The device of the first route in `ip -j route get|show` output ("" if none)."""
    routes = json.loads(text or "[]")
    return routes[0].get("dev", "") if routes else ""
