"""A VM NIC's packet path (networks.packet_path) read live, and traces: tcpdump on every hop at once.

The trace runs `tcpdump` on the host through hosts.shell (this machine, or SSH with the pinned key) with a
filter built from fixed words (protocol, port, address): no text from the user reaches a command line.
Each hop's capture is kept as a pcap file under STATE_DIR/traces/<job>/ and summarized with tcpdump -r.
"""
import collections
import ipaddress
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from hosts import shell
from instances.services import on_domain
from virt.errors import InvalidConfig, NotFound
from virt.xml.domain import DomainXML
from virt.xml.network import check_ifname, check_mac

from . import hostnet
from .models import Network
from .packet_path import build_path, parse_route

PROTOCOLS = ("any", "icmp", "udp", "tcp", "arp")
MAX_SECONDS = 60
MAX_PACKETS = 10_000
SNAPLEN = 256  # headers are what a trace shows; payloads stay on the wire


@dataclass(frozen=True)
class TraceFilter:
    protocol: str = "any"
    port: int | None = None
    address: str = ""

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise InvalidConfig(_("protocol: expected one of %(choices)s, got %(value)r.")
                                % {"choices": ", ".join(PROTOCOLS), "value": self.protocol})
        if self.port is not None:
            if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
                raise InvalidConfig(_("port: expected 1 to 65535, got %(value)r.") % {"value": self.port})
            if self.protocol not in ("udp", "tcp", "any"):
                raise InvalidConfig(_("port: %(protocol)s has no ports.") % {"protocol": self.protocol})
        if self.address:
            try:
                ipaddress.ip_address(self.address)
            except ValueError:
                raise InvalidConfig(_("address: %(value)r is not an IP address.")
                                    % {"value": str(self.address)[:60]}) from None

    def words(self):
        """tcpdump's filter expression as separate arguments, from checked values only."""
        parts = []
        if self.protocol != "any":
            parts.append([self.protocol])
        if self.port is not None:
            parts.append(["port", str(self.port)])
        if self.address:
            parts.append(["host", str(ipaddress.ip_address(self.address))])
        words = []
        for part in parts:
            words += (["and"] if words else []) + part
        return words


def find_nic(instance, mac):
    """The NIC with this MAC in the VM's live definition (NotFound otherwise)."""
    mac = check_mac(mac)
    domain = DomainXML.from_xml(on_domain(instance, lambda dom: dom.xml_desc()), trusted=True)
    for nic in domain.interfaces:
        if (nic.mac or "").lower() == mac:
            return nic
    raise NotFound(_("%(vm)s has no NIC with MAC %(mac)s.") % {"vm": instance.name, "mac": mac})


def _uplink(host, network, destination):
    if network is not None and network.uplinks:
        return network.uplinks[0]
    argv = ["ip", "-j", "route", "get", destination] if destination else ["ip", "-j", "route", "show", "default"]
    return parse_route(shell.run(host, argv, timeout=10))


def nic_path(instance, mac, destination=""):
    """(hops, note): the path of the VM's NIC. Without a shell on the host the path comes from the XML alone
    (no counters, no uplink) and `note` says so."""
    if destination:
        TraceFilter(address=destination)  # checked before it reaches `ip route get`
    nic = find_nic(instance, mac)
    host = instance.host
    network = None
    if nic.type == "network" and nic.source_network:
        network = Network.objects.filter(host=host, name=nic.source_network).first()
    if not hostnet.host_has_shell(host):
        note = _("virtdeck has no shell on %(host)s: the path is read from the XML only, without counters or "
                 "uplink.") % {"host": host.name}
        return build_path(nic, network, [], {}, ""), note
    path = build_path(nic, network, hostnet.interfaces(host), hostnet.firewall(host), _uplink(host, network,
                                                                                               destination))
    return path, ""


def trace_dir(job_id):
    return Path(settings.STATE_DIR) / "traces" / str(int(job_id))


def capture_argv(interface, seconds, trace_filter):
    check_ifname(interface, "interface")
    return ["timeout", "--preserve-status", "-s", "INT", str(int(seconds)), "tcpdump", "-i", interface, "-n",
            "-s", str(SNAPLEN), "-c", str(MAX_PACKETS), "-U", "-w", "-", *trace_filter.words()]


def summarize(pcap_path):
    """{"packets", "flows": [{"src", "dst", "proto", "packets"}]} of a capture, read with `tcpdump -r`."""
    result = subprocess.run(["tcpdump", "-r", str(pcap_path), "-n", "-q", "-t"], capture_output=True, text=True,
                            timeout=30)
    flows, packets = collections.Counter(), 0
    for line in result.stdout.splitlines():
        words = line.replace(",", " ").split()
        if not words:
            continue
        packets += 1
        if words[0] in ("IP", "IP6") and len(words) >= 4 and words[2] == ">":
            proto = words[4].lower() if len(words) > 4 else ""
            flows[(_address(words[1]), _address(words[3].rstrip(":")), proto)] += 1
        elif words[0] == "ARP":
            flows[("arp", "", "arp")] += 1
    return {"packets": packets, "flows": [{"src": src, "dst": dst, "proto": proto, "packets": count}
                                          for (src, dst, proto), count in flows.most_common(20)]}


def _address(token):
    """10.0.0.1.68 -> 10.0.0.1 (tcpdump appends the port to the address)."""
    for candidate in (token, token.rpartition(".")[0]):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return token


class Capture:
    """tcpdump on one interface of the host, as a child process of ours (stopped by its handle on cancel)."""

    def __init__(self, host, interface, seconds, trace_filter, path):
        self.path = path
        self.error = ""
        self.listening = threading.Event()  # set once tcpdump says it has opened the interface
        self._stderr = []
        self._process = subprocess.Popen(shell.argv_for(host, capture_argv(interface, seconds, trace_filter)),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._watcher = threading.Thread(target=self._watch_stderr, daemon=True)
        self._watcher.start()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _watch_stderr(self):
        for line in iter(self._process.stderr.readline, b""):
            line = line.decode(errors="replace").strip()
            if "listening on" in line:
                self.listening.set()
            else:
                self._stderr.append(line)
        self.listening.set()  # tcpdump ended, listening or not: nobody waits for it any longer

    def _collect(self):
        with open(self.path, "wb") as handle:
            # read1: whatever the pipe holds, so the file grows as packets come rather than in 64 KiB steps
            for chunk in iter(lambda: self._process.stdout.read1(65536), b""):
                handle.write(chunk)
        self._watcher.join()
        if self._process.wait() != 0:
            self.error = self._stderr[-1] if self._stderr else f"tcpdump exited with {self._process.returncode}"

    def stop(self):
        if self._process.poll() is None:
            self._process.terminate()

    def join(self, timeout):
        self._thread.join(timeout)
        return not self._thread.is_alive()
