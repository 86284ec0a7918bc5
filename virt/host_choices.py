"""What a host offers a new VM to plug into: its virtual networks and its bridges, by name.

Small reads for a form's choices and for checking an answer; records with every detail are in
virt/networks.py (collect_networks). Functions take an open virConnect.
"""
import libvirt

from .xml.parser import parse_trusted


def network_names(conn):
    """{name: active} of the host's virtual networks (2 RPCs)."""
    active = {n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)}
    return {n.name(): n.name() in active for n in conn.listAllNetworks(0)}


def host_interfaces(conn):
    """{name: type} of the host's network interfaces (bridge, ethernet, bond, vlan) from libvirt's interface
    driver (1 + 1 per interface RPCs); None where the driver has no interface support."""
    try:
        interfaces = conn.listAllInterfaces(0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED):
            return None
        raise
    found = {}
    for interface in interfaces:
        try:
            found[interface.name()] = parse_trusted(interface.XMLDesc(0)).get("type") or ""
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_INTERFACE:  # gone since the listing
                raise
    return found


def bridge_names(conn):
    """Names of the host's Linux bridges; none where libvirt cannot list interfaces (a name can be typed)."""
    return sorted(name for name, kind in (host_interfaces(conn) or {}).items() if kind == "bridge")


def domain_name_taken(conn, name):
    """Whether a domain (running or defined) already has this name (1 RPC)."""
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise
    return True
