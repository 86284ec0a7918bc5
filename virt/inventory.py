"""Bulk inventory of one host: a constant number of RPCs, never one per VM.

`collect()` asks libvirt for every domain's stats in one call
(getAllDomainStats, only the groups virtdeck shows) plus two filtered
listAllDomains calls for autostart and persistence. Drivers that omit vCPU
and memory from the stats (libvirt's test driver) get one `info()` for a
domain seen for the first time only; after that `known` carries the values.

A record's `cpu_time_ns` is None where libvirt reports no CPU time: its test
driver returns the time of day as a running domain's cpuTime (testDomainGetInfo),
~1.8e18 ns, which is not a CPU time, so virtdeck shows none for test-driver VMs.

A record's `disks` are the (target, source path) pairs of the block stats, sorted by target: no extra RPC. Only
disks with a path count: a CD-ROM without media has none, nor has a shut-off domain's `<disk type='volume'>` (QEMU
reports its path only while it runs). A driver without block stats (libvirt's test driver) gives no `disks` key:
not "no disks" but "unknown", so the stored disks are left as they are.
"""
import libvirt

# libvirt's domain states as the slugs virtdeck stores (instances.choices.InstanceState has the same values).
STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",  # being shut down, still running
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",  # suspended by the guest's power management
}
# States with a QEMU process behind them.
ACTIVE_STATES = frozenset({"running", "blocked", "paused", "shutdown", "pmsuspended"})

STATS_GROUPS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)


def state_name(code):
    return STATE_NAMES.get(code, "nostate")


def _sum(stats, prefix, suffix):
    count = stats.get(f"{prefix}.count", 0)
    return sum(stats.get(f"{prefix}.{i}.{suffix}", 0) for i in range(count))


def disks_from_stats(stats):
    """((target, path), ...) sorted by target, or None when the stats carry no block group. Pure."""
    if "block.count" not in stats:
        return None
    disks = ((stats.get(f"block.{i}.name", ""), stats.get(f"block.{i}.path")) for i in range(stats["block.count"]))
    return tuple(sorted((target, path) for target, path in disks if path))


def record_from_stats(dom, stats):
    """One inventory record from a domain and its stats dict. Pure."""
    state = state_name(stats.get("state.state", 0))
    record = {
        "uuid": dom.UUIDString(),
        "name": dom.name(),
        "state": state,
        # libvirt 9.0 reports libvirtd's own CPU time as cpu.time of a shut-off domain: ignore it.
        "cpu_time_ns": stats.get("cpu.time") if state in ACTIVE_STATES else 0,
        "disk_read_bytes": _sum(stats, "block", "rd.bytes"),
        "disk_write_bytes": _sum(stats, "block", "wr.bytes"),
        "net_rx_bytes": _sum(stats, "net", "rx.bytes"),
        "net_tx_bytes": _sum(stats, "net", "tx.bytes"),
    }
    if "vcpu.current" in stats:
        record["vcpus"] = stats["vcpu.current"]
    if "balloon.maximum" in stats:
        record["max_memory_kib"] = stats["balloon.maximum"]
        record["memory_kib"] = stats.get("balloon.current", stats["balloon.maximum"])
    disks = disks_from_stats(stats)
    if disks is not None:
        record["disks"] = disks
    return record


def _reports_cpu_time(conn):
    return conn.getType() != "TEST"  # cached by libvirt's client after the first call: no RPC


def _fill_from_info(dom, record):
    state, max_mem, mem, vcpus, cpu_time = dom.info()
    record.setdefault("vcpus", vcpus)
    record.setdefault("max_memory_kib", max_mem)
    record.setdefault("memory_kib", mem)
    if record["cpu_time_ns"] is None and _reports_cpu_time(dom.connect()):
        record["cpu_time_ns"] = cpu_time


def collect(conn, known=None):
    """All domains of the host as records. `known` maps uuid -> the previous record of that domain."""
    return _records(conn, conn.getAllDomainStats(STATS_GROUPS, 0), known or {})


def collect_some(conn, doms, known):
    """Records of these domains (virDomain objects of `conn`, as virt.batch.each found them), in 3 RPCs whatever
    their number: after a bulk action, rather than one collect_one (5-6 RPCs) per domain. `known` maps their
    uuids to their previous records. A domain gone meanwhile is left out."""
    return _records(conn, conn.domainListGetStats(doms, STATS_GROUPS, 0) if doms else [], known)


def _records(conn, stats, known):
    autostart = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)}
    transient = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)}
    records = []
    for dom, dom_stats in stats:
        try:
            records.append(_record(dom, dom_stats, autostart, transient, known))
        except libvirt.libvirtError as exc:
            # Gone between the listing and info() (a transient VM stopped, a migration ended).
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
    return records


def _record(dom, dom_stats, autostart, transient, known):
    """One domain's record; vCPUs and memory from `known` when the stats lack them."""
    record = record_from_stats(dom, dom_stats)
    record["autostart"] = record["uuid"] in autostart
    record["persistent"] = record["uuid"] not in transient
    if "vcpus" not in record or "memory_kib" not in record:
        previous = known.get(record["uuid"].lower())
        if previous:
            for key in ("vcpus", "memory_kib", "max_memory_kib"):
                record.setdefault(key, previous[key])
            if record["cpu_time_ns"] is None and _reports_cpu_time(dom.connect()):
                record["cpu_time_ns"] = previous.get("cpu_time_ns")
        else:
            _fill_from_info(dom, record)
    return record


def collect_one(conn, uuid):
    """The record of one domain (after an event), or None if it is gone."""
    try:
        dom = conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise
    stats = conn.domainListGetStats([dom], STATS_GROUPS, 0)
    record = record_from_stats(dom, stats[0][1] if stats else {})
    _fill_from_info(dom, record)
    record["autostart"] = bool(dom.autostart())
    record["persistent"] = bool(dom.isPersistent())
    return record
