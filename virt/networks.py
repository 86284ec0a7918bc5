"""Virtual networks: what a host has, the network actions, and DHCP leases.

Functions take an open virConnect (services call them inside the pool's `call()`) and return plain
data, never libvirt objects. Networks are named by name, as libvirt's own tools do.

RPCs (name() and UUIDString() are answered locally):
- collect_networks: 4 + 1 per network (listAllNetworks x4: all, active, autostart, transient;
  then XMLDesc() per network).
- collect_network: 5 (lookup, XMLDesc, isActive, autostart, isPersistent).
"""
from dataclasses import asdict, dataclass, field

import libvirt

from .errors import InvalidConfig, OperationInvalid
from .xml.domain import DomainXML
from .xml.network import NetworkXML, network_overlaps, subnets
from .xml.parser import parse_untrusted
from .i18n import _


@dataclass
class NetworkRecord:
    uuid: str
    name: str
    mode: str  # virt.xml.network.MODES, or libvirt's forward mode for others (hostdev)
    active: bool
    autostart: bool
    persistent: bool
    bridge: str  # the Linux bridge (libvirt's virbrN, or the host bridge of a bridge network); "" for macvtap
    uplinks: list = field(default_factory=list)  # forward devices
    macvtap_mode: str = ""
    ipv4: str = ""  # "192.168.122.1/24": the host's address with the prefix
    ipv6: str = ""
    dhcp_ranges: list = field(default_factory=list)  # ["start-end", ...] over both families
    static_hosts: int = 0

    def as_dict(self):
        return asdict(self)


def _gone(exc):
    return exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK


def _address(ip):
    interface = None if ip is None else ip.interface
    return "" if interface is None else interface.with_prefixlen


def record_from_xml(xml, *, active, autostart, persistent):
    parsed = NetworkXML.from_xml(xml, trusted=True)
    ranges, static = [], 0
    for ip in parsed.ips:
        ranges += [f"{r.start}-{r.end}" for r in ip.dhcp_ranges]
        static += len(ip.dhcp_hosts)
    return NetworkRecord(
        uuid=parsed.uuid or "", name=parsed.name or "", mode=parsed.mode, active=bool(active),
        autostart=bool(autostart), persistent=bool(persistent), bridge=parsed.bridge or "",
        uplinks=parsed.uplinks, macvtap_mode=parsed.macvtap_mode or "",
        ipv4=_address(parsed.ip("ipv4")), ipv6=_address(parsed.ip("ipv6")),
        dhcp_ranges=ranges, static_hosts=static,
    )


def collect_networks(conn):
    """Every network of the host as a NetworkRecord (4 + 1 per network RPCs), sorted by name."""
    networks = conn.listAllNetworks(0)
    uuids = {}
    for flag in ("ACTIVE", "AUTOSTART", "TRANSIENT"):
        listed = conn.listAllNetworks(getattr(libvirt, f"VIR_CONNECT_LIST_NETWORKS_{flag}"))
        uuids[flag] = {network.UUIDString() for network in listed}
    records = []
    for network in networks:
        uuid = network.UUIDString()
        try:
            xml = network.XMLDesc(0)
        except libvirt.libvirtError as exc:
            if _gone(exc):  # undefined between the listing and now
                continue
            raise
        records.append(record_from_xml(xml, active=uuid in uuids["ACTIVE"], autostart=uuid in uuids["AUTOSTART"],
                                       persistent=uuid not in uuids["TRANSIENT"]))
    return sorted(records, key=lambda record: record.name)


def collect_network(conn, name):
    """One network's record (after an action or an event), or None if it is gone."""
    try:
        network = conn.networkLookupByName(name)
        return record_from_xml(network.XMLDesc(0), active=network.isActive(), autostart=network.autostart(),
                               persistent=network.isPersistent())
    except libvirt.libvirtError as exc:
        if _gone(exc):
            return None
        raise


def _lookup(conn, name):
    return conn.networkLookupByName(name)


def _others_subnets(conn, excluding):
    found = {}
    for network in conn.listAllNetworks(0):
        if network.name() == excluding:
            continue
        found[network.name()] = subnets(NetworkXML.from_xml(network.XMLDesc(0), trusted=True))
    return found


def check_no_overlap(conn, network_xml):
    """InvalidConfig naming the other network when a subnet of `network_xml` overlaps one of the host's
    networks. libvirt itself compares only with the host's routes, and only when the network starts."""
    clash = network_overlaps(network_xml, _others_subnets(conn, network_xml.name))
    if clash:
        name, subnet = clash
        raise InvalidConfig(_("ipv4_address: the subnet overlaps network {name}'s {subnet}.")
                            .format(name=name, subnet=subnet))


def define_network(conn, network_xml, *, start=True, autostart=False):
    """Define a NetworkXML (validated by libvirt), start it and set autostart; return its record.

    If starting fails (a bridge name in use, a subnet the host already routes) the definition is
    removed again and libvirt's message raised: nothing is left half-made.
    """
    if not isinstance(network_xml, NetworkXML):
        raise TypeError("define_network takes a NetworkXML (see virt.xml.network.build_network)")
    try:
        conn.networkLookupByName(network_xml.name)
    except libvirt.libvirtError as exc:
        if not _gone(exc):
            raise
    else:
        raise InvalidConfig(_("name: a network named {name} already exists on this host.")
                            .format(name=network_xml.name))
    check_no_overlap(conn, network_xml)
    network = conn.networkDefineXMLFlags(network_xml.to_xml(), libvirt.VIR_NETWORK_DEFINE_VALIDATE)
    try:
        if start:
            network.create()
        if autostart:
            network.setAutostart(1)
    except BaseException:
        try:
            if network.isActive():
                network.destroy()
            network.undefine()
        except libvirt.libvirtError:
            pass  # the original error is the one to report
        raise
    return collect_network(conn, network.name())


def redefine_network(conn, name, xml):
    """Replace a network's definition with user XML (parsed without entities, validated by libvirt).

    The name and UUID cannot change here (libvirt would define a second network). A running network
    keeps its old configuration until it is restarted. Returns the record.
    """
    parsed = NetworkXML(parse_untrusted(xml)) if isinstance(xml, (str, bytes)) else xml
    if parsed.element.tag != "network":
        raise InvalidConfig(_("Expected a <network> document, got <{tag}>.").format(tag=parsed.element.tag))
    current = NetworkXML.from_xml(inactive_xml(conn, name), trusted=True)
    if parsed.name != current.name:
        raise InvalidConfig(_("name: renaming a network is not possible; keep <name>{name}</name>.")
                            .format(name=current.name))
    if parsed.uuid and parsed.uuid != current.uuid:
        raise InvalidConfig(_("uuid: a network's UUID cannot change."))
    check_no_overlap(conn, parsed)
    conn.networkDefineXMLFlags(parsed.to_xml(), libvirt.VIR_NETWORK_DEFINE_VALIDATE)
    return collect_network(conn, name)


def inactive_xml(conn, name):
    """The definition the next start uses (what an editor edits)."""
    network = _lookup(conn, name)
    try:
        return network.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
            raise
        return network.XMLDesc(0)  # libvirt's test driver knows no flags; it keeps one definition anyway


def start_network(conn, name):
    _lookup(conn, name).create()
    return collect_network(conn, name)


def stop_network(conn, name):
    """Stop (destroy) a network: its bridge, dnsmasq and firewall rules go; running guests lose their link."""
    _lookup(conn, name).destroy()
    return collect_network(conn, name)


def set_network_autostart(conn, name, enabled):
    network = _lookup(conn, name)
    if not network.isPersistent():
        raise OperationInvalid(_("Network {name} is transient: it cannot start with the host.")
                               .format(name=name))
    network.setAutostart(1 if enabled else 0)
    return collect_network(conn, name)


def delete_network(conn, name):
    """Stop the network if it runs and undefine it (a transient one vanishes when stopped)."""
    network = _lookup(conn, name)
    persistent = network.isPersistent()
    if network.isActive():
        network.destroy()
    if persistent:
        network.undefine()


def delete_network_if_present(conn, name):
    """delete_network, and nothing when there is no such network (a cleanup's: it may be gone already)."""
    try:
        delete_network(conn, name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
            raise


@dataclass
class Lease:
    mac: str
    ip: str  # with its prefix, "192.168.100.23/24"
    hostname: str
    client_id: str
    expires: int  # seconds since the epoch

    def as_dict(self):
        return asdict(self)


def leases(conn, name):
    """The network's live DHCP leases (from libvirt's lease file; needs the network running).

    Raises OperationInvalid for a network without DHCP of its own (bridge, macvtap) or not running.
    """
    network = _lookup(conn, name)
    if not network.isActive():
        raise OperationInvalid(_("Network {name} is not running: it has no leases.").format(name=name))
    found = []
    for lease in network.DHCPLeases(None, 0):
        prefix = lease.get("prefix")
        ip = lease.get("ipaddr") or ""
        found.append(Lease(
            mac=lease.get("mac") or "", ip=f"{ip}/{prefix}" if ip and prefix else ip,
            hostname=lease.get("hostname") or "", client_id=lease.get("clientid") or "",
            expires=int(lease.get("expirytime") or 0),
        ))
    return sorted(found, key=lambda lease: lease.ip)


@dataclass
class Attachment:
    uuid: str
    name: str
    mac: str
    active: bool
    tap: str  # the host-side device of a running VM's NIC (vnetN, macvtapN); "" when shut off

    def as_dict(self):
        return asdict(self)


def attached_domains(conn, name):
    """The NICs of the host's domains whose source is network `name`: 1 + 2 RPCs per domain (listAllDomains,
    then isActive() and XMLDesc() each), so only a network's own page asks, never a list."""
    attachments = []
    for dom in conn.listAllDomains(0):
        try:
            active = bool(dom.isActive())
            parsed = DomainXML.from_xml(dom.XMLDesc(0), trusted=True)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined since the listing
            raise
        for nic in parsed.interfaces:
            if nic.type == "network" and nic.source_network == name:
                attachments.append(Attachment(uuid=dom.UUIDString(), name=dom.name(), mac=nic.mac or "",
                                              active=active, tap=(nic.target_dev or "") if active else ""))
    return sorted(attachments, key=lambda attachment: (attachment.name, attachment.mac))
