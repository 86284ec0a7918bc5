"""Network actions and live reads, shared by pages, API and jobs (rows: networks.inventory).

Every change is followed by re-reading that one network into its row (inventory.refresh_one's record),
so the answer and the page show the new state at once.
"""
import difflib

from django.utils.translation import gettext as _

from core.jobs import enqueue
from hosts.connection import call
from virt import networks as virt_networks
from virt.errors import InvalidConfig, Unsupported
from virt.xml.network import build_network

from . import hostnet, tracing
from .inventory import apply_record
from .tasks import trace_nic

# The fields of build_network a form or an API payload may give.
CREATE_FIELDS = ("bridge", "forward_dev", "macvtap_mode", "ipv4_address", "ipv4_prefix", "dhcp_start", "dhcp_end",
                 "ipv6_address", "ipv6_prefix", "static_hosts", "dns_hosts", "domain_name")


def _stored(network, record):
    return apply_record(network.host, network.name, record)


def preview_network(*, name, mode, **fields):
    """The XML a create would define (checked; touches nothing)."""
    return build_network(name, mode, **{k: v for k, v in fields.items() if k in CREATE_FIELDS}).to_xml()


def check_host_devices(host, network_xml):
    """On a host with a shell, the interfaces a network needs must exist there: libvirt starts a macvtap or
    host-bridge network on a missing device and fails only when a guest attaches."""
    if not hostnet.host_has_shell(host):
        return
    needed = {"forward_dev": network_xml.uplinks}
    if network_xml.mode == "bridge":
        needed["bridge"] = [network_xml.bridge]
    present = {nic.name: nic for nic in hostnet.interfaces(host)}
    for field, devices in needed.items():
        for device in devices:
            if device not in present:
                raise InvalidConfig(_("%(field)s: %(host)s has no interface %(device)s.")
                                    % {"field": field, "host": host.name, "device": device})
            if field == "bridge" and present[device].kind != "bridge":
                raise InvalidConfig(_("bridge: %(device)s on %(host)s is not a bridge.")
                                    % {"device": device, "host": host.name})


def create_network(host, *, name, mode, start=True, autostart=False, **fields):
    """Define a network on `host` (checked first; removed again if it cannot start) and store its row."""
    network_xml = build_network(name, mode, **{k: v for k, v in fields.items() if k in CREATE_FIELDS})
    check_host_devices(host, network_xml)
    record = call(host, lambda conn: virt_networks.define_network(conn, network_xml, start=start,
                                                                  autostart=autostart))
    return apply_record(host, name, record)


def start_network(network):
    return _stored(network, call(network.host, lambda conn: virt_networks.start_network(conn, network.name)))


def stop_network(network):
    return _stored(network, call(network.host, lambda conn: virt_networks.stop_network(conn, network.name)))


def set_autostart(network, enabled):
    return _stored(network, call(network.host,
                                 lambda conn: virt_networks.set_network_autostart(conn, network.name, enabled)))


def enable_autostart(network):
    return set_autostart(network, True)


def disable_autostart(network):
    return set_autostart(network, False)


def delete_network(network):
    call(network.host, lambda conn: virt_networks.delete_network(conn, network.name))
    apply_record(network.host, network.name, None)


def leases(network):
    return call(network.host, lambda conn: virt_networks.leases(conn, network.name))


def attached(network):
    return call(network.host, lambda conn: virt_networks.attached_domains(conn, network.name))


def read_xml(network):
    """The definition its next start uses."""
    return call(network.host, lambda conn: virt_networks.inactive_xml(conn, network.name))


def xml_diff(old, new):
    """A unified diff of two definitions, for the person to confirm."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile="current", tofile="new"))


def update_xml(network, xml):
    """Redefine from user XML (validated by libvirt; name and UUID fixed). Returns (row, diff).

    A running network keeps its live configuration until it is stopped and started again.
    """
    def redefine(conn):
        old = virt_networks.inactive_xml(conn, network.name)
        record = virt_networks.redefine_network(conn, network.name, xml)
        return record, xml_diff(old, virt_networks.inactive_xml(conn, network.name))

    record, diff = call(network.host, redefine)
    return _stored(network, record), diff


def start_trace(instance, mac, user, seconds, protocol="any", port=None, address=""):
    """Check the request (a shell on the host, the NIC exists, the filter is valid), then enqueue the trace job."""
    tracing.TraceFilter(protocol, port, address or "")
    if not hostnet.host_has_shell(instance.host):
        raise Unsupported(_("%(host)s is reached without a shell: virtdeck cannot run tcpdump there (add it over "
                            "qemu+ssh).") % {"host": instance.host.name})
    tracing.find_nic(instance, mac)
    return enqueue(trace_nic, user=user, target=instance, host=instance.host, instance_id=instance.pk,
                   mac=mac.lower(), seconds=seconds, protocol=protocol, port=port, address=address or "")
