"""A libvirt domain job's progress as plain data (migration, save, dump, snapshot...). Pure."""
import libvirt

JOB_TYPES = {
    libvirt.VIR_DOMAIN_JOB_NONE: "none", libvirt.VIR_DOMAIN_JOB_BOUNDED: "bounded",
    libvirt.VIR_DOMAIN_JOB_UNBOUNDED: "unbounded", libvirt.VIR_DOMAIN_JOB_COMPLETED: "completed",
    libvirt.VIR_DOMAIN_JOB_FAILED: "failed", libvirt.VIR_DOMAIN_JOB_CANCELLED: "cancelled",
}
JOB_OPERATIONS = {
    getattr(libvirt, f"VIR_DOMAIN_JOB_OPERATION_{name.upper()}"): name
    for name in ("unknown", "start", "save", "restore", "migration_in", "migration_out", "snapshot",
                 "snapshot_revert", "dump", "backup", "snapshot_delete")
}


def job_from_stats(stats):
    """A job's progress from jobStats(): type, operation, elapsed and data figures (bytes). Pure."""
    kind = JOB_TYPES.get(stats.get("type", 0), "none")
    return {
        "type": kind,
        "active": kind in ("bounded", "unbounded"),
        "operation": JOB_OPERATIONS.get(stats.get("operation"), "unknown"),
        "elapsed_ms": stats.get("time_elapsed"),
        "remaining_ms": stats.get("time_remaining"),
        "data_total": stats.get("data_total"),
        "data_processed": stats.get("data_processed"),
        "data_remaining": stats.get("data_remaining"),
        "stats": dict(stats),  # every figure libvirt gave (memory_*, disk_*, downtime, ...)
    }
