"""Host networking, read with fixed commands through hosts.shell: interfaces and the firewall.

Parsing is pure (parse_interfaces, parse_iptables_save) and tested on sample output; the services run
`ip -j -d addr show` and `iptables-save -c` on hosts where virtdeck has a shell (SSH, or this machine).
"""
import json
import re
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from hosts import shell
from hosts.models import parse_host_uri
from virt.errors import OperationFailed, Unsupported

IP_ADDR = ["ip", "-j", "-d", "addr", "show"]
IPTABLES_SAVE = ["iptables-save", "-c"]
NFT_LIST = ["nft", "list", "ruleset"]
# Tables iptables-nft makes (and iptables-save already shows): left out of the native nftables view.
IPTABLES_COMPAT = {("ip", name) for name in ("filter", "nat", "mangle", "raw", "security")} | \
    {("ip6", name) for name in ("filter", "nat", "mangle", "raw", "security")}
_NFT_COUNTER = re.compile(r"\s*counter packets (\d+) bytes (\d+)")
_NFT_POLICY = re.compile(r"policy (\w+);")
LIBVIRT_CHAIN_PREFIX = "LIBVIRT_"


@dataclass
class Interface:
    name: str
    state: str  # operstate: UP, DOWN, UNKNOWN (loopback, tun)
    kind: str  # linkinfo kind (bridge, veth, tun, vlan, macvtap...), or the link type (ether, loopback)
    mac: str
    mtu: int
    master: str  # the bridge it is enslaved to, if any
    addresses: list = field(default_factory=list)  # "192.0.2.2/24"

    def as_dict(self):
        return asdict(self)


def parse_interfaces(text):
    """`ip -j -d addr show` -> [Interface], bridges listing their ports via `master`."""
    interfaces = []
    for entry in json.loads(text or "[]"):
        interfaces.append(Interface(
            name=entry.get("ifname", ""), state=entry.get("operstate", ""),
            kind=(entry.get("linkinfo") or {}).get("info_kind") or entry.get("link_type", ""),
            mac=entry.get("address", ""), mtu=int(entry.get("mtu") or 0), master=entry.get("master", ""),
            addresses=[f"{a['local']}/{a['prefixlen']}" for a in entry.get("addr_info", []) if "local" in a],
        ))
    return interfaces


@dataclass
class Rule:
    spec: str  # the rule as iptables-save writes it, after "-A CHAIN"
    target: str  # what -j jumps to ("" without one)
    packets: int
    bytes: int
    libvirt: bool  # in a libvirt chain, or jumping into one

    def as_dict(self):
        return asdict(self)


@dataclass
class Chain:
    name: str
    policy: str  # ACCEPT/DROP for built-in chains, "-" for user chains
    packets: int
    bytes: int
    libvirt: bool
    rules: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


def _counters(text):
    packets, _sep, size = text.strip("[]").partition(":")
    return int(packets), int(size)


def _target(words):
    for flag in ("-j", "--jump", "-g", "--goto"):
        if flag in words and words.index(flag) + 1 < len(words):
            return words[words.index(flag) + 1]
    return ""


def parse_iptables_save(text):
    """`iptables-save -c` -> {table: [Chain]} in the file's order, every rule with its counters."""
    tables, chains = {}, None
    for line in text.splitlines():
        if line.startswith("*"):
            chains = {}
            tables[line[1:].strip()] = chains
        elif line.startswith(":") and chains is not None:
            name, policy, counters = (line[1:].split() + ["-", "[0:0]"])[:3]
            packets, size = _counters(counters)
            chains[name] = Chain(name, policy, packets, size, name.startswith(LIBVIRT_CHAIN_PREFIX))
        elif chains is not None and (line.startswith("[") or line.startswith("-A ")):
            packets = size = 0
            if line.startswith("["):
                counters, _sep, line = line.partition(" ")
                packets, size = _counters(counters)
            words = line.split()
            if len(words) < 2 or words[0] != "-A":
                continue
            chain = chains.setdefault(words[1], Chain(words[1], "-", 0, 0, words[1].startswith(LIBVIRT_CHAIN_PREFIX)))
            target = _target(words)
            chain.rules.append(Rule(" ".join(words[2:]), target, packets, size,
                                    chain.libvirt or target.startswith(LIBVIRT_CHAIN_PREFIX)))
    return {table: list(found.values()) for table, found in tables.items()}


def parse_nft_ruleset(text):
    """`nft list ruleset` -> {"nft FAMILY NAME": [Chain]} for the native tables (iptables-nft's own tables are
    what iptables-save shows); rules keep nft's wording, their counters read from `counter packets N bytes M`."""
    tables, chains, chain, depth, skip_depth = {}, None, None, 0, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith("{"):
            depth += 1
            words = line.split()
            if depth == 1 and words[0] == "table" and len(words) == 4:
                family, name = words[1], words[2]
                chains = None if (family, name) in IPTABLES_COMPAT else tables.setdefault(f"nft {family} {name}", [])
            elif depth == 2 and words[0] == "chain" and chains is not None:
                chain = Chain(words[1], "-", 0, 0, False)
                chains.append(chain)
            elif skip_depth is None:
                skip_depth = depth  # a set, map, flowtable or other block: not rules
            continue
        if line == "}":
            if skip_depth == depth:
                skip_depth = None
            depth -= 1
            if depth < 2:
                chain = None
            continue
        if chain is None or skip_depth is not None:
            continue
        if line.startswith("type ") and "hook" in line:
            policy = _NFT_POLICY.search(line)
            chain.policy = policy.group(1).upper() if policy else "-"
            continue
        counter = _NFT_COUNTER.search(line)
        packets, size = (int(counter.group(1)), int(counter.group(2))) if counter else (0, 0)
        spec = _NFT_COUNTER.sub("", line).strip()
        target = spec.split()[-1] if spec.split()[-1:] and spec.split()[-1] in ("accept", "drop", "reject") else ""
        if " jump " in f" {spec} " or " goto " in f" {spec} ":
            target = spec.split()[-1]
        chain.rules.append(Rule(spec, target, packets, size, False))
    return tables


def host_has_shell(host):
    return parse_host_uri(host.uri).has_shell


def _run(host, argv):
    if not host_has_shell(host):
        raise Unsupported(_("%(host)s is reached without a shell, so virtdeck cannot read its interfaces or "
                            "firewall: add it over qemu+ssh (or qemu:///system on this machine).")
                          % {"host": host.name})
    try:
        return shell.run(host, argv, timeout=15)
    except shell.HostShellError as exc:
        raise OperationFailed(_("%(command)s on %(host)s failed: %(error)s")
                              % {"command": argv[0], "host": host.name, "error": exc}) from None


def interfaces(host):
    return parse_interfaces(_run(host, IP_ADDR))


def firewall(host):
    """{table: [Chain]}: iptables as the host has it (with the nf_tables backend, the same rules), then the
    host's native nftables tables ("nft inet firewalld" ...) where nft is installed."""
    tables = parse_iptables_save(_run(host, IPTABLES_SAVE))
    try:
        native = shell.run(host, NFT_LIST, timeout=15)
    except shell.HostShellError:
        return tables  # no nft on the host (or not allowed): iptables is the whole view
    return {**tables, **parse_nft_ruleset(native)}
