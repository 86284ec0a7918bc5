"""Rates from two samples' counters (virt.metrics.sample): what a frame stores. Pure.

A counter that went down (the VM restarted, a disk was detached) gives no rate for that interval
rather than a negative one.
"""
from hosts.sync import _cpu_percent as host_cpu_percent  # the host sync's rule, one copy

from virt.metrics import COUNTERS

RATE_FIELDS = dict(zip(COUNTERS[1:], ("disk_read_bps", "disk_write_bps", "net_rx_bps", "net_tx_bps")))


def _delta(previous, current, key):
    before, now = previous.get(key), current.get(key)
    if before is None or now is None or now < before:
        return None
    return now - before


def vm_point(previous, current, elapsed):
    """One VM's values: CPU % of its vCPUs, memory, and bytes/s; rates None without a previous sample."""
    point = {"memory_kib": current.get("memory_kib"), "cpu_percent": None}
    for counter, field in RATE_FIELDS.items():
        delta = _delta(previous, current, counter) if previous and elapsed > 0 else None
        point[field] = None if delta is None else delta / elapsed
    cpu_ns = _delta(previous, current, "cpu_time_ns") if previous and elapsed > 0 else None
    vcpus = current.get("vcpus") or 1
    if cpu_ns is not None:
        point["cpu_percent"] = min(100.0, 100.0 * cpu_ns / (elapsed * 1e9 * vcpus))
    return point


def host_point(previous, current):
    """The host's CPU % since the previous sample and its memory use now."""
    usage = current["host"]
    total = usage.get("memory_total_kib") or None
    return {
        "cpu_percent": host_cpu_percent(previous["host"].get("cpu_times") if previous else None,
                                        usage.get("cpu_times") or {}),
        "memory_total_kib": total,
        "memory_used_kib": total - usage.get("memory_free_kib", 0) if total else None,
    }


def points(previous, current, instance_ids):
    """{instance id: vm_point()} for the VMs of `current` that have a row (instance_ids maps uuid -> id)."""
    elapsed = current["taken"] - previous["taken"] if previous else 0
    before = {vm["uuid"]: vm for vm in previous["vms"]} if previous else {}
    return {instance_ids[vm["uuid"]]: vm_point(before.get(vm["uuid"]), vm, elapsed)
            for vm in current["vms"] if vm["uuid"] in instance_ids}
