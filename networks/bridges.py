"""Linux bridges on a host, made so that a mistake cannot cut the host off.

Enslaving an uplink moves its addresses and default route onto the bridge. If that breaks the path virtdeck
(or the admin) reaches the host by, nothing could put it back from outside, so the change runs on the host as
a guarded script: it applies the change, then waits `seconds`, then undoes it, unless a confirmation that
arrives over a new connection (a new SSH session) stops it first. A bridge without an uplink risks nothing and
is made directly.

The script is the one place virtdeck runs `sh -c` on a host: it is assembled here from interface names checked
by check_ifname, addresses parsed by ipaddress and a whole number of seconds, each quoted with shlex.quote.
"""
import ipaddress
import json
import shlex
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hosts import shell
from virt.errors import InvalidConfig, OperationFailed, OperationInvalid
from virt.xml.network import check_ifname

from . import hostnet

STATE_DIR = "/run/virtdeck-bridges"  # on the host: the guard's pid and "applied" marker per bridge
MIN_SECONDS, MAX_SECONDS = 10, 600


@dataclass
class Uplink:
    name: str
    addresses: list  # "192.0.2.5/24"
    gateway: str  # the default route's gateway through it, "" if none


def _run(host, argv):
    try:
        return shell.run(host, argv, timeout=15)
    except shell.HostShellError as exc:
        raise OperationFailed(str(exc)) from None


def _check_shell(host):
    if not hostnet.host_has_shell(host):
        raise InvalidConfig(_("%(host)s is reached without a shell: virtdeck cannot change its interfaces.")
                            % {"host": host.name})


def _interfaces(host):
    return {nic.name: nic for nic in hostnet.interfaces(host)}


def _addresses(host, device):
    """(global addresses, default gateway) of `device`, as a guard must restore them."""
    details = json.loads(_run(host, ["ip", "-j", "addr", "show", "dev", device]) or "[]")
    addresses = [str(ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")) for entry in details
                 for a in entry.get("addr_info", []) if a.get("scope") == "global"]
    routes = json.loads(_run(host, ["ip", "-j", "route", "show", "default", "dev", device]) or "[]")
    gateway = next((route["gateway"] for route in routes if route.get("gateway")), "")
    return addresses, str(ipaddress.ip_address(gateway)) if gateway else ""


def read_uplink(host, name, interfaces):
    found = interfaces.get(name)
    if found is None:
        raise InvalidConfig(_("uplink: %(host)s has no interface %(name)s.") % {"host": host.name, "name": name})
    if found.kind == "bridge" or found.master:
        raise InvalidConfig(_("uplink: %(name)s is a bridge or already in one.") % {"name": name})
    return Uplink(name, *_addresses(host, name))


def _move(addresses, gateway, source, target):
    """Commands that move addresses and the default route from `source` to `target`."""
    commands = [["ip", "addr", "del", address, "dev", source] for address in addresses]
    commands += [["ip", "addr", "add", address, "dev", target] for address in addresses]
    if gateway:
        commands.append(["ip", "route", "replace", "default", "via", gateway, "dev", target])
    return commands


def enslave_commands(bridge, uplink):
    return [["ip", "link", "set", "dev", uplink.name, "master", bridge],
            *_move(uplink.addresses, uplink.gateway, uplink.name, bridge)]


def release_commands(bridge, uplink):
    return [*_move(uplink.addresses, uplink.gateway, bridge, uplink.name),
            ["ip", "link", "set", "dev", uplink.name, "nomaster"]]


def create_commands(bridge):
    return [["ip", "link", "add", "name", bridge, "type", "bridge"], ["ip", "link", "set", "dev", bridge, "up"]]


def delete_commands(bridge):
    return [["ip", "link", "del", "dev", bridge]]


def _line(commands):
    # Each step may fail (an address already gone): the script goes on, as a person would.
    return "; ".join(" ".join(shlex.quote(word) for word in command) for command in commands)


def guard_script(bridge, change, undo, seconds):
    """sh -c text: apply `change`, mark it applied, wait, then `undo` unless killed first (by confirm)."""
    check_ifname(bridge, "bridge")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidConfig(_("seconds: expected %(low)s to %(high)s, got %(value)r.")
                            % {"low": MIN_SECONDS, "high": MAX_SECONDS, "value": seconds})
    pid, applied = shlex.quote(f"{STATE_DIR}/{bridge}.pid"), shlex.quote(f"{STATE_DIR}/{bridge}.applied")
    return (f"exec </dev/null >/dev/null 2>&1; mkdir -p {shlex.quote(STATE_DIR)}; echo $$ > {pid}; "
            f"{_line(change)}; touch {applied}; sleep {seconds}; {_line(undo)}; rm -f {pid} {applied}")


def _guarded(host, bridge, change, undo, seconds):
    _run(host, ["setsid", "-f", "sh", "-c", guard_script(bridge, change, undo, seconds)])


def _exists(host, path):
    quoted = shlex.quote(path)
    return _run(host, ["sh", "-c", f"if test -e {quoted}; then echo yes; else echo no; fi"]).strip() == "yes"


def pending(host, bridge):
    """Whether a guarded change of `bridge` waits for confirmation (its undo will run otherwise)."""
    check_ifname(bridge, "bridge")
    return _exists(host, f"{STATE_DIR}/{bridge}.applied")


def confirm(host, bridge):
    """Keep a guarded change: stop its undo. Runs over a new connection, which proves the host is reachable."""
    _check_shell(host)
    check_ifname(bridge, "bridge")
    if not pending(host, bridge):
        raise OperationInvalid(_("No change of %(bridge)s waits for confirmation (it was kept, undone, or "
                                 "is still being applied).") % {"bridge": bridge})
    pid = _run(host, ["cat", f"{STATE_DIR}/{bridge}.pid"]).strip()
    if not pid.isdigit():
        raise OperationFailed(_("The guard of %(bridge)s left no pid.") % {"bridge": bridge})
    _run(host, ["kill", pid])
    _run(host, ["rm", "-f", f"{STATE_DIR}/{bridge}.pid", f"{STATE_DIR}/{bridge}.applied"])


def create_bridge(host, name, uplink=None, seconds=60):
    """Create bridge `name`; with `uplink`, enslave it and move its addresses and default route, undone after
    `seconds` unless confirmed. Returns whether a confirmation is needed."""
    _check_shell(host)
    check_ifname(name, "name")
    interfaces = _interfaces(host)
    if name in interfaces:
        raise InvalidConfig(_("name: %(host)s already has an interface %(name)s.") % {"host": host.name,
                                                                                       "name": name})
    if not uplink:
        for command in create_commands(name):
            _run(host, command)
        return False
    check_ifname(uplink, "uplink")
    found = read_uplink(host, uplink, interfaces)
    change = [*create_commands(name), *enslave_commands(name, found)]
    undo = [*release_commands(name, found), *delete_commands(name)]
    _guarded(host, name, change, undo, seconds)
    return True


def delete_bridge(host, name, seconds=60):
    """Delete bridge `name`, giving its addresses and default route back to its (single) uplink, undone after
    `seconds` unless confirmed when an uplink is involved. Returns whether a confirmation is needed."""
    _check_shell(host)
    check_ifname(name, "name")
    interfaces = _interfaces(host)
    bridge = interfaces.get(name)
    if bridge is None or bridge.kind != "bridge":
        raise InvalidConfig(_("name: %(host)s has no bridge %(name)s.") % {"host": host.name, "name": name})
    ports = [nic.name for nic in interfaces.values() if nic.master == name]
    taps = [port for port in ports if port.startswith(("vnet", "macvtap"))]
    if taps:
        raise OperationInvalid(_("Bridge %(name)s still carries VM interfaces (%(taps)s): stop or move those "
                                 "VMs first.") % {"name": name, "taps": ", ".join(taps)})
    if len(ports) > 1:
        raise OperationInvalid(_("Bridge %(name)s has several ports (%(ports)s); virtdeck gives the addresses "
                                 "back to a single uplink only.") % {"name": name, "ports": ", ".join(ports)})
    if not ports:
        _run(host, delete_commands(name)[0])
        return False
    uplink = Uplink(ports[0], *_addresses(host, name))
    _guarded(host, name, [*release_commands(name, uplink), *delete_commands(name)],
             [*create_commands(name), *enslave_commands(name, uplink)], seconds)
    return True


def list_bridges(host):
    """[{name, state, ports, addresses, pending}] of the host's Linux bridges."""
    _check_shell(host)
    interfaces = hostnet.interfaces(host)
    found = []
    for nic in interfaces:
        if nic.kind != "bridge":
            continue
        found.append({"name": nic.name, "state": nic.state, "addresses": nic.addresses,
                      "ports": [port.name for port in interfaces if port.master == nic.name],
                      "pending": pending(host, nic.name)})
    return found
