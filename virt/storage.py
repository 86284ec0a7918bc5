"""Storage pools: what a host has, what it supports, and the pool actions.

Functions take an open virConnect (services call them inside the pool's
`call()`, long ones inside `run_long()`) and return plain data, never libvirt
objects. Pools are named by name, as libvirt's own tools do.

RPCs (remote calls; name() and UUIDString() are answered locally):
- collect_pools: 3 + 2 per pool (listAllStoragePools x3: all, autostart,
  transient; then info() + XMLDesc() per pool), whatever the number of volumes.
- collect_pool: 5 (lookup, info, XMLDesc, autostart, isPersistent).
- collect_volumes (virt/volumes.py): 2 + 1 per volume.
"""
from dataclasses import asdict, dataclass

import libvirt

from .errors import InvalidConfig
from .xml.parser import parse_trusted
from .xml.storage import POOL_TYPES, PoolXML
from .i18n import _

POOL_STATES = {
    libvirt.VIR_STORAGE_POOL_INACTIVE: "inactive",
    libvirt.VIR_STORAGE_POOL_BUILDING: "building",
    libvirt.VIR_STORAGE_POOL_RUNNING: "running",
    libvirt.VIR_STORAGE_POOL_DEGRADED: "degraded",
    libvirt.VIR_STORAGE_POOL_INACCESSIBLE: "inaccessible",
}


@dataclass
class PoolRecord:
    uuid: str
    name: str
    type: str
    state: str  # a value of POOL_STATES
    autostart: bool
    persistent: bool
    capacity: int  # bytes; 0 while inactive
    allocation: int
    available: int
    target_path: str  # "" for types without one (rbd, iscsi-direct...)
    source: str  # where the storage comes from, for display: host:dir, a device, a volume group...
    source_format: str

    @property
    def active(self):
        return self.state in ("running", "degraded")

    def as_dict(self):
        return asdict(self)


@dataclass
class PoolTypeSupport:
    type: str
    source_formats: list  # choices for the pool's source format (fs, netfs, logical, disk)
    volume_formats: list  # formats libvirt can create in it, as the host reports them


@dataclass
class PoolCapabilities:
    types: list  # PoolTypeSupport, in POOL_TYPES order, only the types the host supports
    reported: bool  # False: the host cannot say (libvirt < 5.2, the test driver); all types are listed


def _gone(exc, code=libvirt.VIR_ERR_NO_STORAGE_POOL):
    return exc.get_error_code() == code


def _record(pool, info, xml, autostart, persistent):
    state, capacity, allocation, available = info
    parsed = PoolXML.from_xml(xml, trusted=True)
    return PoolRecord(
        uuid=pool.UUIDString(), name=pool.name(), type=parsed.type or "",
        state=POOL_STATES.get(state, "inaccessible"), autostart=bool(autostart), persistent=bool(persistent),
        capacity=capacity, allocation=allocation, available=available,
        target_path=parsed.target_path or "", source=parsed.source_path or "",
        source_format=parsed.source_format or "",
    )


def collect_pools(conn):
    """Every pool of the host as a PoolRecord: 3 + 2 per pool RPCs, never one per volume."""
    pools = conn.listAllStoragePools(0)
    autostart = {p.UUIDString() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)}
    transient = {p.UUIDString() for p in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT)}
    records = []
    for pool in pools:
        uuid = pool.UUIDString()
        try:
            records.append(_record(pool, pool.info(), pool.XMLDesc(0), uuid in autostart, uuid not in transient))
        except libvirt.libvirtError as exc:
            if not _gone(exc):  # undefined between the listing and now
                raise
    return sorted(records, key=lambda record: record.name)


def collect_pool(conn, name):
    """One pool's record (after an action or an event), or None if it is gone."""
    try:
        pool = conn.storagePoolLookupByName(name)
        return _record(pool, pool.info(), pool.XMLDesc(0), pool.autostart(), pool.isPersistent())
    except libvirt.libvirtError as exc:
        if _gone(exc):
            return None
        raise


def pool_capabilities(conn):
    """Which pool types the host supports, with the source formats each takes.

    From virConnectGetStoragePoolCapabilities (libvirt >= 5.2). Where the driver lacks
    it (libvirt's test driver, which accepts any type without touching storage;
    older daemons) every known type is listed with `reported=False`.
    """
    try:
        root = parse_trusted(conn.getStoragePoolCapabilities(0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED):
            raise
        return PoolCapabilities(
            [PoolTypeSupport(t.name, list(t.source_formats), list(t.volume_formats)) for t in POOL_TYPES.values()],
            reported=False,
        )
    found = {}
    for element in root.iterfind("pool"):
        if element.get("supported") != "yes" or element.get("type") not in POOL_TYPES:
            continue
        found[element.get("type")] = PoolTypeSupport(
            element.get("type"),
            source_formats=element.xpath("poolOptions/enum[@name='sourceFormatType']/value/text()"),
            volume_formats=element.xpath("volOptions/enum[@name='targetFormatType']/value/text()"),
        )
    return PoolCapabilities([found[name] for name in POOL_TYPES if name in found], reported=True)


# --------------------------------------------------------------------------- actions

def _lookup(conn, name):
    return conn.storagePoolLookupByName(name)


# Types whose build() may write over existing data (mkfs, a partition table, pvcreate) and so take the
# overwrite flags; the others' build() makes a directory and refuses those flags.
_BUILD_FORMATS = {"fs", "disk", "logical"}


def build_refuses_overwrite(pool_type):
    """Whether virtdeck builds a pool of this type refusing to format existing data (virsh pool-build
    --no-overwrite)."""
    return pool_type in _BUILD_FORMATS


def _build_flags(pool_type, overwrite):
    if pool_type not in _BUILD_FORMATS:
        return libvirt.VIR_STORAGE_POOL_BUILD_NEW
    return libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE if overwrite else libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE


def define_pool(conn, pool_xml, *, build=True, start=True, autostart=False, overwrite=False):
    """Define a PoolXML, build it (where its type builds), start it; return its record.

    overwrite (fs, disk, logical): False refuses to build over existing data (a file
    system, a partition table, a volume group signature); True formats it. If building or starting fails the
    definition is removed again and libvirt's message raised; storage already built
    is left alone (it may hold data that was there before).
    """
    if not isinstance(pool_xml, PoolXML):
        raise TypeError("define_pool takes a PoolXML (see virt.xml.storage.build_pool)")
    spec = POOL_TYPES.get(pool_xml.type)
    if spec is None:
        raise InvalidConfig(_("Unknown pool type {type!r}.").format(type=pool_xml.type))
    pool = conn.storagePoolDefineXML(pool_xml.to_xml(), libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE)
    try:
        if build and spec.buildable:
            pool.build(_build_flags(spec.name, overwrite))
        if start:
            pool.create(0)
        if autostart:
            pool.setAutostart(1)
    except BaseException:
        try:
            pool.undefine()
        except libvirt.libvirtError:
            pass  # the original error is the one to report
        raise
    return collect_pool(conn, pool.name())


def start_pool(conn, name):
    _lookup(conn, name).create(0)
    return collect_pool(conn, name)


def stop_pool(conn, name):
    """Stop (destroy) a pool: its storage and volumes stay; guests using them keep running."""
    _lookup(conn, name).destroy()
    return collect_pool(conn, name)


def refresh_pool(conn, name):
    """Re-read the pool's volumes from its storage (files copied in by hand appear)."""
    _lookup(conn, name).refresh(0)
    return collect_pool(conn, name)


def set_pool_autostart(conn, name, enabled):
    _lookup(conn, name).setAutostart(1 if enabled else 0)
    return collect_pool(conn, name)


def delete_pool(conn, name, *, delete_storage=False):
    """Stop the pool if it runs and undefine it; with delete_storage, first remove what build() made
    (the directory, which must be empty; the volume group) where the type allows."""
    pool = _lookup(conn, name)
    persistent = pool.isPersistent()
    if delete_storage:
        if not persistent:
            raise InvalidConfig(_("A transient pool vanishes when it stops, so its storage cannot be deleted "
                                  "through libvirt."))
        pool_type = PoolXML.from_xml(pool.XMLDesc(0), trusted=True).type
        spec = POOL_TYPES.get(pool_type)
        if spec is None or not spec.deletable:
            raise InvalidConfig(_("virtdeck cannot delete the storage of {pool_type} pools; undefine the pool "
                                  "without deleting its storage.")
                                .format(pool_type=pool_type))
    active = pool.isActive()
    count = pool.numOfVolumes() if delete_storage and active else 0
    if count:
        # libvirt would stop the pool and then fail to remove a non-empty directory or volume group.
        raise InvalidConfig(_("Pool {name} still holds {count} volume(s): delete them first, or undefine the "
                              "pool without deleting its storage.")
                            .format(name=name, count=count))
    if active:
        pool.destroy()
    if delete_storage:
        pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL)
    if persistent:
        pool.undefine()
