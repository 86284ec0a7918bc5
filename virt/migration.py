"""Live migration: flags and parameters from options (pure), progress from job stats (pure), what a
precheck needs to know about a VM and a host (libvirt reads), and the migration call itself.

Callers run `migrate()` inside `Pool.run_long` on the source host and poll `Domain.job_info()` on a
second, short call: the 0.5 s monitor loop (nova's migration.py idea).
"""
from dataclasses import dataclass

import libvirt
from lxml import etree

from .errors import translate
from .xml.parser import parse_trusted

STORAGE_MODES = ("shared", "copy_all", "copy_incremental")
# Boolean options -> libvirt flags. `live` off means the VM is paused while it moves.
FLAG_OPTIONS = {
    "live": libvirt.VIR_MIGRATE_LIVE,
    "persistent": libvirt.VIR_MIGRATE_PERSIST_DEST,
    "undefine_source": libvirt.VIR_MIGRATE_UNDEFINE_SOURCE,
    "peer2peer": libvirt.VIR_MIGRATE_PEER2PEER,
    "tunnelled": libvirt.VIR_MIGRATE_TUNNELLED,
    "auto_converge": libvirt.VIR_MIGRATE_AUTO_CONVERGE,
    "post_copy": libvirt.VIR_MIGRATE_POSTCOPY,
    "compressed": libvirt.VIR_MIGRATE_COMPRESSED,
    "unsafe": libvirt.VIR_MIGRATE_UNSAFE,
}
STORAGE_FLAGS = {
    "shared": 0,
    "copy_all": libvirt.VIR_MIGRATE_NON_SHARED_DISK,
    "copy_incremental": libvirt.VIR_MIGRATE_NON_SHARED_INC,
}
# Pool types whose storage libvirt itself knows to be shared between hosts (safe without `unsafe`).
SHARED_POOL_TYPES = {"netfs", "gluster", "rbd", "sheepdog", "iscsi", "iscsi-direct", "scsi", "mpath", "vstorage"}


@dataclass(frozen=True)
class Options:
    live: bool = True
    persistent: bool = True
    undefine_source: bool = True
    storage: str = "shared"
    peer2peer: bool = True
    tunnelled: bool = False
    max_bandwidth_mib: int | None = None
    max_downtime_ms: int | None = None
    auto_converge: bool = False
    post_copy: bool = False
    compressed: bool = False
    unsafe: bool = False


def flags(options):
    """The virDomainMigrateFlags for `options`. Pure."""
    value = STORAGE_FLAGS[options.storage]
    for name, flag in FLAG_OPTIONS.items():
        if getattr(options, name):
            value |= flag
    return value


def params(options, migration_address=""):
    """The typed parameters of migrateToURI3/migrate3. Pure.

    migration_address: where the source's QEMU sends the stream (the target's `migration_address`);
    without it the target advertises its own (qemu.conf `migration_host`).
    """
    values = {}
    if options.max_bandwidth_mib:
        values[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(options.max_bandwidth_mib)
    if migration_address and not options.tunnelled:
        host = f"[{migration_address}]" if ":" in migration_address else migration_address
        values[libvirt.VIR_MIGRATE_PARAM_URI] = f"tcp://{host}"
    return values


def progress(job):
    """A migration's figures from Domain.job_info() (virt.jobinfo): what the monitor records. Pure.

    memory_percent is how much of the memory pass is done; a pass later than the first starts again
    on the pages the guest dirtied meanwhile, so it can go down between iterations.
    """
    stats = job.get("stats", {})
    total, remaining = stats.get("memory_total"), stats.get("memory_remaining")
    percent = None
    if total:
        percent = round(100.0 * (total - (remaining or 0)) / total, 1)
    return {
        "active": job.get("active", False),
        "phase": _phase(stats),
        "elapsed_ms": job.get("elapsed_ms"),
        "memory_percent": percent,
        "data_processed": job.get("data_processed"),
        "data_remaining": job.get("data_remaining"),
        "data_total": job.get("data_total"),
        "memory_remaining": remaining,
        "memory_dirty_rate": stats.get("memory_dirty_rate"),
        "memory_iteration": stats.get("memory_iteration"),
        "memory_bps": stats.get("memory_bps"),
        "disk_remaining": stats.get("disk_remaining"),
        "expected_downtime_ms": stats.get("downtime"),
        "postcopy_requests": stats.get("memory_postcopy_requests"),
    }


def _phase(stats):
    if stats.get("disk_total") and stats.get("disk_remaining"):
        return "storage"
    if stats.get("memory_postcopy_requests"):  # pages the target asked for: it runs the VM already
        return "post-copy"
    if (stats.get("memory_iteration") or 0) > 1:
        return "iterating"
    if stats.get("memory_total"):
        return "memory"
    return "setup"


def result_figures(completed):
    """The final figures of a finished migration from Domain.job_info(completed=True). Pure."""
    stats = completed.get("stats", {})
    return {
        "total_ms": completed.get("elapsed_ms"),
        "downtime_ms": stats.get("downtime"),
        "data_processed": completed.get("data_processed"),
        "memory_iterations": stats.get("memory_iteration"),
    }


def migrate(conn, uuid, dest_uri, options, migration_address="", dest_conn=None):
    """Migrate the VM (run inside Pool.run_long on the source's own connection). Returns nothing.

    peer2peer: the source's libvirtd connects to dest_uri itself. Otherwise pass dest_conn, a
    connection of the caller's to the target (the client drives the migration).
    """
    dom = conn.lookupByUUIDString(uuid)
    if options.max_downtime_ms:
        dom.migrateSetMaxDowntime(int(options.max_downtime_ms), 0)
    if options.peer2peer:
        dom.migrateToURI3(dest_uri, params(options, migration_address), flags(options))
    else:
        dom.migrate3(dest_conn, params(options, migration_address), flags(options))


def start_post_copy(conn, uuid):
    """Switch the running migration of this VM to post-copy (it was started with post_copy)."""
    conn.lookupByUUIDString(uuid).migrateStartPostCopy(0)


# What a precheck reads (libvirt calls on one host each, plain data out).

def vm_facts(conn, uuid):
    """What a target must offer the VM: name, state, memory, CPU, machine, emulator, networks, disks."""
    dom = conn.lookupByUUIDString(uuid)
    root = parse_trusted(dom.XMLDesc(0))
    os_type = root.find("os/type")
    cpu = root.find("cpu")
    disks = []
    for disk in root.iterfind("devices/disk"):
        if disk.get("device", "disk") not in ("disk", "lun"):
            continue
        source = disk.find("source")
        path = None if source is None else (source.get("file") or source.get("dev"))
        if path:
            readonly = disk.find("readonly") is not None or disk.find("shareable") is not None
            disks.append({"target": disk.find("target").get("dev"), "path": path, "readonly": readonly,
                          "capacity": _volume_capacity(conn, path)})
    networks, bridges = [], []
    for nic in root.iterfind("devices/interface"):
        source = nic.find("source")
        if source is None:
            continue
        if nic.get("type") == "network" and source.get("network"):
            networks.append(source.get("network"))
        elif nic.get("type") == "bridge" and source.get("bridge"):
            bridges.append(source.get("bridge"))
    return {
        "uuid": uuid,
        "name": dom.name(),
        "active": bool(dom.isActive()),
        "memory_kib": int(dom.info()[1]),
        "virt_type": root.get("type"),
        "arch": None if os_type is None else os_type.get("arch"),
        "machine": None if os_type is None else os_type.get("machine"),
        "emulator": root.findtext("devices/emulator"),
        "cpu_mode": None if cpu is None else cpu.get("mode", "custom"),
        "cpu_xml": None if cpu is None else _tostring(cpu),
        "host_cpu_xml": _host_cpu_xml(conn),
        "networks": sorted(set(networks)),
        "bridges": sorted(set(bridges)),
        "disks": disks,
    }


def _tostring(element):
    return etree.tostring(element, encoding="unicode")


def _host_cpu_xml(conn):
    cpu = parse_trusted(conn.getCapabilities()).find("host/cpu")
    return None if cpu is None else _tostring(cpu)


def _volume_capacity(conn, path):
    try:
        return int(conn.storageVolLookupByPath(path).info()[1])
    except libvirt.libvirtError:
        return None


def host_facts(conn, vm):
    """What this (target) host offers the VM described by vm_facts(): plain data for the pure rules."""
    caps = parse_trusted(conn.getCapabilities())
    machines, emulators = set(), set()
    for guest in caps.iterfind("guest"):
        arch = guest.find("arch")
        if arch is None or arch.get("name") != vm["arch"]:
            continue
        for domain in [arch, *arch.iterfind("domain")]:
            emulators.update(e.text for e in domain.iterfind("emulator") if e.text)
            for machine in domain.iterfind("machine"):
                machines.add(machine.text)
                if machine.get("canonical"):
                    machines.add(machine.get("canonical"))
    return {
        "free_memory_kib": conn.getFreeMemory() // 1024,
        "machines": sorted(m for m in machines if m),
        "emulators": sorted(emulators),
        "cpu": _cpu_compatible(conn, vm),
        "networks": {name: _network_active(conn, name) for name in vm["networks"]},
        "bridges": {name: _bridge_exists(conn, name) for name in vm["bridges"]},
        "clash": _clash(conn, vm),
        "disks": {disk["path"]: _disk_on_host(conn, disk["path"]) for disk in vm["disks"]},
        "pools": _pools(conn),
    }


def _cpu_compatible(conn, vm):
    """{"ok": bool|None, "detail": str}: None when there is nothing to compare (QEMU's default model)."""
    if vm["cpu_mode"] in (None, "custom") and not vm["cpu_xml"]:
        return {"ok": None, "detail": "default CPU model"}
    xml = vm["host_cpu_xml"] if vm["cpu_mode"] in ("host-passthrough", "host-model", "maximum") else vm["cpu_xml"]
    if not xml:
        return {"ok": None, "detail": "no CPU description"}
    try:
        if vm["cpu_mode"] == "custom":
            result = conn.compareHypervisorCPU(vm["emulator"], vm["arch"], vm["machine"], vm["virt_type"], xml, 0)
        else:
            result = conn.compareCPU(xml, 0)
    except libvirt.libvirtError as exc:
        return {"ok": False, "detail": translate(exc).message}
    return {"ok": result != libvirt.VIR_CPU_COMPARE_INCOMPATIBLE,
            "detail": "incompatible" if result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE else "compatible"}


def _network_active(conn, name):
    try:
        return bool(conn.networkLookupByName(name).isActive())
    except libvirt.libvirtError:
        return False


def _bridge_exists(conn, name):
    """True/False, or None when the host's libvirt cannot list interfaces (no netcf/udev backend)."""
    try:
        conn.interfaceLookupByName(name)
        return True
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE:
            return False
        return None


def _clash(conn, vm):
    """The name of a domain on this host with the VM's UUID or name, or None."""
    for lookup, key in ((conn.lookupByUUIDString, None), (conn.lookupByName, vm["name"])):
        try:
            return lookup(key or vm["uuid"]).name()
        except libvirt.libvirtError:
            continue
    return None


def _disk_on_host(conn, path):
    """{"seen": bool, "pool_type": str|None}: whether this host has a storage volume at `path`."""
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        try:
            target = parse_trusted(pool.XMLDesc(0)).findtext("target/path")
        except libvirt.libvirtError:
            continue
        if target and path.startswith(target.rstrip("/") + "/"):
            try:
                pool.refresh(0)  # a file made since the pool's last scan is not a volume yet
                pool.storageVolLookupByName(path[len(target.rstrip("/")) + 1:])
                return {"seen": True, "pool_type": parse_trusted(pool.XMLDesc(0)).get("type")}
            except libvirt.libvirtError:
                continue
    return {"seen": False, "pool_type": None}


def _pools(conn):
    """Active pools: name, type, target path, available bytes."""
    pools = []
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        root = parse_trusted(pool.XMLDesc(0))
        pools.append({"name": pool.name(), "type": root.get("type"), "path": root.findtext("target/path"),
                      "available": int(pool.info()[3])})
    return pools


def lookup_active(conn, uuid):
    """Whether the domain with this UUID runs on this host (False if it is not there at all)."""
    try:
        return bool(conn.lookupByUUIDString(uuid).isActive())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise

