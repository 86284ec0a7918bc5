"""One metrics sample of a host: counters for the host and every running VM in 3 RPCs, whatever the
number of VMs (getAllDomainStats for the active domains, getCPUStats, getMemoryStats).

Counters, not rates: a rate needs the previous sample, which the caller keeps (metrics/rates.py).
libvirt's test driver answers getAllDomainStats with the state group only, so its VMs have no counters
(None), and it has no getMemoryStats (virt.host.usage then reports 0).
"""
import time

import libvirt

from .host import usage
from .inventory import STATS_GROUPS, record_from_stats

COUNTERS = ("cpu_time_ns", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes")


def vm_counters(dom, stats):
    """One running domain's counters from its stats dict. Pure."""
    record = record_from_stats(dom, stats)
    counters = {"uuid": record["uuid"], "vcpus": stats.get("vcpu.current")}
    # balloon.rss is the memory the VM's QEMU process holds on the host; balloon.current what the guest got.
    counters["memory_kib"] = stats.get("balloon.rss", stats.get("balloon.current"))
    has_io = "block.count" in stats or "net.count" in stats
    for key in COUNTERS:
        counters[key] = record[key] if key == "cpu_time_ns" or has_io else None
    return counters


def sample(conn):
    """{"taken": epoch seconds, "host": virt.host.usage(), "vms": [vm_counters(), ...]}."""
    taken = time.time()
    stats = conn.getAllDomainStats(STATS_GROUPS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    return {"taken": taken, "host": usage(conn), "vms": [vm_counters(dom, s) for dom, s in stats]}
