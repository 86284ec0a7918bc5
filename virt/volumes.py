"""Storage volumes: listing, create (thin, thick, qcow2 metadata), resize, wipe, delete, clone/convert, progress.

Functions take an open virConnect and pool/volume names and return plain data
(VolumeRecord), as virt/storage.py does for pools. Input is checked before any
RPC where virtdeck can judge it (names, sizes, formats, the allocation policy);
otherwise libvirt's message is what the caller sees.

RPCs: collect_volumes is 2 + 1 per volume (pool lookup, listAllVolumes, then one
XMLDesc each: libvirt has no bulk call for volume sizes, and the XML carries
what info() does plus format, path and backing store).
"""
from dataclasses import asdict, dataclass

import libvirt

from .errors import InvalidConfig
from .names import check_name
from .xml.storage import POOL_TYPES, VOLUME_FORMATS, PoolXML, VolumeXML, build_volume, check_format, check_size
from .i18n import _, gettext_noop

# thin: nothing preallocated (a sparse raw file, a qcow2 growing as written);
# thick: all of it (raw: fallocate or zeros written by libvirt; qcow2: preallocation=falloc);
# metadata: qcow2 only, its tables written up front (faster first writes, still sparse).
ALLOCATIONS = ("thin", "thick", "metadata")

WIPE_ALGORITHMS = {
    "zero": libvirt.VIR_STORAGE_VOL_WIPE_ALG_ZERO,
    "nnsa": libvirt.VIR_STORAGE_VOL_WIPE_ALG_NNSA,
    "dod": libvirt.VIR_STORAGE_VOL_WIPE_ALG_DOD,
    "bsi": libvirt.VIR_STORAGE_VOL_WIPE_ALG_BSI,
    "gutmann": libvirt.VIR_STORAGE_VOL_WIPE_ALG_GUTMANN,
    "schneier": libvirt.VIR_STORAGE_VOL_WIPE_ALG_SCHNEIER,
    "pfitzner7": libvirt.VIR_STORAGE_VOL_WIPE_ALG_PFITZNER7,
    "pfitzner33": libvirt.VIR_STORAGE_VOL_WIPE_ALG_PFITZNER33,
    "random": libvirt.VIR_STORAGE_VOL_WIPE_ALG_RANDOM,
    "trim": libvirt.VIR_STORAGE_VOL_WIPE_ALG_TRIM,
}


@dataclass
class VolumeRecord:
    pool: str
    name: str
    key: str
    path: str
    type: str  # file, block, dir, network, netdir, ploop
    format: str  # raw, qcow2, ... ("" where the pool has none, e.g. logical)
    capacity: int  # bytes the guest sees
    allocation: int  # bytes used on the host: thin when far below capacity
    physical: int  # bytes of the file itself (qcow2 metadata included); None if libvirt does not say
    backing_path: str
    backing_format: str
    compat: str  # qcow2: "1.1" or "0.10"

    def as_dict(self):
        return asdict(self)


def record_from_xml(pool_name, xml):
    """A VolumeRecord from a volume's XML as libvirt wrote it. Pure."""
    volume = VolumeXML.from_xml(xml, trusted=True)
    return VolumeRecord(
        pool=pool_name, name=volume.name, key=volume.key or "", path=volume.path or "",
        type=volume.type or "file", format=volume.format or "", capacity=volume.capacity or 0,
        allocation=volume.allocation or 0, physical=volume.physical, backing_path=volume.backing_path or "",
        backing_format=volume.backing_format or "", compat=volume.compat or "",
    )


def _gone(exc):
    return exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL


def collect_volumes(conn, pool_name):
    """Every volume of a running pool: 2 + 1 per volume RPCs. An inactive pool raises (OperationInvalid)."""
    pool = conn.storagePoolLookupByName(pool_name)
    records = []
    for volume in pool.listAllVolumes(0):
        try:
            records.append(record_from_xml(pool_name, volume.XMLDesc(0)))
        except libvirt.libvirtError as exc:
            if not _gone(exc):  # deleted between the listing and now
                raise
    return sorted(records, key=lambda record: record.name)


def _volume(conn, pool_name, name):
    return conn.storagePoolLookupByName(pool_name).storageVolLookupByName(name)


def collect_volume(conn, pool_name, name):
    """One volume's record, or None if it is gone (3 RPCs)."""
    try:
        return record_from_xml(pool_name, _volume(conn, pool_name, name).XMLDesc(0))
    except libvirt.libvirtError as exc:
        if _gone(exc):
            return None
        raise


def _pool_type(pool):
    """The pool's PoolType (1 RPC); InvalidConfig if volumes cannot be created in it."""
    pool_type = PoolXML.from_xml(pool.XMLDesc(0), trusted=True).type
    spec = POOL_TYPES.get(pool_type)
    if spec is None or not spec.volume_formats:
        raise InvalidConfig(_("Volumes cannot be created in {pool_type} pools (their volumes are the LUNs they "
                              "find).").format(pool_type=pool_type))
    return spec


def _new_volume_xml(spec, name, capacity, volume_format, allocation):
    """(VolumeXML, create flags) for a volume of `allocation` policy in a pool of type `spec`."""
    check_policy(name, capacity, volume_format, allocation)  # again: a clone's format comes from its source
    if volume_format not in spec.volume_formats:
        raise InvalidConfig(_("A {name} pool holds {volume_formats} volumes, not {volume_format}.")
                            .format(name=spec.name, volume_formats=' or '.join(spec.volume_formats),
                                    volume_format=volume_format))
    xml = build_volume(name, capacity, volume_format=volume_format if spec.file_volumes else None,
                       allocation=capacity if allocation == "thick" else 0)
    # qcow2: libvirt asks qemu-img for preallocation=metadata (allocation below capacity) or falloc (equal).
    prealloc = volume_format == "qcow2" and allocation in ("thick", "metadata")
    return xml, libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA if prealloc else 0


def check_policy(name, capacity, volume_format, allocation):
    """Everything virtdeck can judge without the host; capacity and volume_format None: not known yet."""
    check_name(name, gettext_noop("volume name"))
    if capacity is not None:
        check_size(capacity, gettext_noop("capacity"))
    if volume_format is not None:
        check_format(volume_format)
    if allocation not in ALLOCATIONS:
        raise InvalidConfig(_("Unknown allocation {allocation!r}: expected one of {choices}.")
                            .format(allocation=allocation, choices=', '.join(ALLOCATIONS)))
    if allocation == "metadata" and volume_format not in (None, "qcow2"):
        raise InvalidConfig(_("Metadata preallocation is for qcow2 volumes; a raw volume is thin or thick."))


def create_volume(conn, pool_name, name, capacity, *, volume_format="raw", allocation="thin"):
    """Create a volume of `capacity` bytes; return its record. Everything is checked before the first RPC."""
    check_policy(name, capacity, volume_format, allocation)
    pool = conn.storagePoolLookupByName(pool_name)
    xml, flags = _new_volume_xml(_pool_type(pool), name, capacity, volume_format, allocation)
    return record_from_xml(pool_name, pool.createXML(xml.to_xml(), flags).XMLDesc(0))


def clone_volume(conn, pool_name, source_name, name, *, target_pool=None, volume_format=None, allocation="thin"):
    """Copy a volume into a new one (same or another pool of the host), converting its format if asked.

    libvirt runs the copy on the host (qemu-img convert between formats), so it works
    on remote hosts; it blocks until done (run it as a long call, polling progress with
    allocation_poller() from another connection) and removes a failed target itself.
    The source is only read. volume_format None keeps the source's format.
    """
    target_pool = target_pool or pool_name
    check_policy(name, None, volume_format, allocation)
    source = _volume(conn, pool_name, source_name)
    current = VolumeXML.from_xml(source.XMLDesc(0), trusted=True)
    if volume_format is None:
        volume_format = current.format or "raw"
        if volume_format not in VOLUME_FORMATS:
            raise InvalidConfig(_("The source is {volume_format}: choose raw or qcow2 for the copy.")
                                .format(volume_format=volume_format))
    pool = conn.storagePoolLookupByName(target_pool)
    xml, flags = _new_volume_xml(_pool_type(pool), name, current.capacity, volume_format, allocation)
    return record_from_xml(target_pool, pool.createXMLFrom(xml.to_xml(), source, flags).XMLDesc(0))


def delete_volume(conn, pool_name, name):
    """Delete the volume and its data. Whether a guest uses it is for the caller to check (libvirt does not)."""
    _volume(conn, pool_name, name).delete(libvirt.VIR_STORAGE_VOL_DELETE_NORMAL)


def resize_volume(conn, pool_name, name, capacity, *, shrink=False, allocate=None):
    """Set the volume's capacity; return its record.

    shrink: must be True to make it smaller (data past the new end is lost).
    allocate: preallocate the added space (raw only); None keeps a fully allocated
    raw volume thick and a thin one thin.
    """
    check_size(capacity, gettext_noop("capacity"))
    volume = _volume(conn, pool_name, name)
    current = VolumeXML.from_xml(volume.XMLDesc(0), trusted=True)
    if capacity < current.capacity and not shrink:
        raise InvalidConfig(_("{name} would shrink from {capacity} to {capacity2} bytes, losing the data past "
                              "the new end; shrinking must be asked for explicitly.")
                            .format(name=name, capacity=current.capacity, capacity2=capacity))
    if allocate is None:
        allocate = current.format == "raw" and (current.allocation or 0) >= current.capacity
    if allocate and current.format not in ("raw", None):
        raise InvalidConfig(_("Only raw volumes can have new space preallocated; {name} is {format}.")
                            .format(name=name, format=current.format))
    flags = 0
    if capacity < current.capacity:
        flags |= libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK
    elif allocate:
        flags |= libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE
    if capacity != current.capacity:
        volume.resize(capacity, flags)
    return record_from_xml(pool_name, volume.XMLDesc(0))


def wipe_volume(conn, pool_name, name, algorithm="zero"):
    """Overwrite the volume's data (a long call: it writes the whole capacity)."""
    if algorithm not in WIPE_ALGORITHMS:
        raise InvalidConfig(_("Unknown wipe algorithm {algorithm!r}: expected one of {choices}.")
                            .format(algorithm=algorithm, choices=', '.join(WIPE_ALGORITHMS)))
    _volume(conn, pool_name, name).wipePattern(WIPE_ALGORITHMS[algorithm], 0)


# --------------------------------------------------------------------------- progress of long copies

def allocation_poller(conn, pool_name, name):
    """A poll() for progress(): the volume's allocation in bytes, or None while it does not exist yet.

    Use a connection other than the one running the copy (one call at a time per
    connection). After the volume is found, each poll is one RPC (info()).
    """
    found = []

    def poll():
        try:
            if not found:
                found.append(_volume(conn, pool_name, name))
            return found[0].info()[2]
        except libvirt.libvirtError as exc:
            if _gone(exc):
                found.clear()
                return None
            raise

    return poll


def progress(poll, done, total, interval=0.5):
    """Yield percentages of `total` bytes reached, from poll() every `interval` s until `done` is set.

    Pure: poll() returns bytes so far or None (unknown yet); `done` is a threading.Event
    the caller sets when the long call returns. Percentages never go down and stop at 99:
    100 is for the caller to report once the call has succeeded. `total` is what the
    target will hold: the source's allocation for a thin copy, its capacity for a thick one.
    """
    last = -1
    while not done.wait(interval):
        current = poll()
        if current is None:
            continue
        percent = min(99, current * 100 // max(total, 1))
        if percent > last:
            last = percent
            yield percent
