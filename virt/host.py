"""Host facts: what the seed's first chapters ask about a KVM host.

Functions take an open virConnect and return plain dicts; call them through
Pool.call so they are bounded and their errors translated.
"""
import libvirt

from .xml.parser import parse_trusted


def _version_string(number):
    if not number:
        return ""
    major, rest = divmod(number, 1000000)
    minor, micro = divmod(rest, 1000)
    return f"{major}.{minor}.{micro}"


def _domain_types(conn, caps):
    """Domain types the host offers for its native arch: {'kvm': bool, 'qemu': bool}."""
    types = {"kvm": False, "qemu": False}
    for domain in caps.iterfind("guest/arch/domain"):
        kind = domain.get("type")
        if kind in types:
            types[kind] = True
    try:
        dom_caps = parse_trusted(conn.getDomainCapabilities(None, None, None, "kvm", 0))
        types["kvm"] = dom_caps.findtext("domain") == "kvm"
    except libvirt.libvirtError:
        pass  # no KVM domain capabilities: keep what capabilities said
    return types


def facts(conn):
    """Capability summary of a host, plus the raw capabilities XML."""
    caps_xml = conn.getCapabilities()
    caps = parse_trusted(caps_xml)
    info = conn.getInfo()  # [arch, memory MiB, cpus, MHz, nodes, sockets, cores, threads]
    cpu = caps.find("host/cpu")
    features = {f.get("name") for f in cpu.iterfind("feature")} if cpu is not None else set()
    topology = cpu.find("topology") if cpu is not None else None
    types = _domain_types(conn, caps)
    hardware = "vmx" in features or "svm" in features
    # kvm: hardware-assisted; kvm-no-vmx: /dev/kvm answers without vmx/svm (nested or
    # paravirtualized KVM, which can run guests far slower than TCG); tcg: emulation only.
    acceleration = ("kvm" if hardware else "kvm-no-vmx") if types["kvm"] else "tcg"
    try:
        hv_version = conn.getVersion()
    except libvirt.libvirtError:
        hv_version = 0
    return {
        "hostname": conn.getHostname(),
        "uuid": caps.findtext("host/uuid") or "",
        "arch": info[0],
        "cpu_model": (cpu.findtext("model") if cpu is not None else "") or "",
        "cpu_vendor": (cpu.findtext("vendor") if cpu is not None else "") or "",
        "cpus": info[2],
        "mhz": info[3],
        "numa_nodes": info[4],
        "sockets": int(topology.get("sockets", info[5])) if topology is not None else info[5],
        "cores": int(topology.get("cores", info[6])) if topology is not None else info[6],
        "threads": int(topology.get("threads", info[7])) if topology is not None else info[7],
        "vmx": "vmx" in features,
        "svm": "svm" in features,
        "kvm": types["kvm"],
        "tcg": types["qemu"],
        "acceleration": acceleration,
        "memory_mib": info[1],
        "driver": conn.getType(),
        "libvirt_version": _version_string(conn.getLibVersion()),
        "hypervisor_version": _version_string(hv_version),
        "capabilities_xml": caps_xml,
    }


def usage(conn):
    """Host CPU and memory use right now (two cheap RPCs)."""
    result = {"memory_total_kib": 0, "memory_free_kib": 0}
    try:
        mem = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
        result["memory_total_kib"] = mem.get("total", 0)
        result["memory_free_kib"] = mem.get("free", 0) + mem.get("buffers", 0) + mem.get("cached", 0)
    except libvirt.libvirtError:
        pass
    try:
        result["cpu_times"] = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
    except libvirt.libvirtError:
        result["cpu_times"] = {}
    return result

