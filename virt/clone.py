"""A full clone's pieces: which volumes a VM's disks are, and the clone's XML (new name, UUID, MACs, disks).

`source_disks(conn, xml)` resolves each writable disk to its pool and volume (1-3 RPCs a disk);
`clone_xml(xml, name, new_disks)` is pure. A shut-off VM's disks are copied by virt/volumes.clone_volume
(qemu-img on the host), run by the caller as long operations (virt/connection.Pool.run_long); a running
VM's by a block copy (start_block_copy, block_copy_status, end_block_copy), polled by the caller.
"""
from dataclasses import dataclass

import libvirt

from .errors import InvalidConfig
from .xml.devices import DiskXML
from .xml.domain import DomainXML
from .xml.storage import VolumeXML
from .i18n import _


@dataclass(frozen=True)
class SourceDisk:
    target: str  # vda
    pool: str
    volume: str
    format: str
    allocation: int  # bytes in use: what a thin copy writes, for progress
    capacity: int

    def clone_name(self, new_vm):
        """The copy's volume name: <vm>-<target>.qcow2 (or .img for raw)."""
        return f"{new_vm}-{self.target}.{'qcow2' if self.format == 'qcow2' else 'img'}"


def _copied(disk):
    """Disks a clone copies: writable disks with a source. CD-ROMs and shared or read-only disks are kept."""
    return disk.device in (None, "disk") and not disk.readonly and disk.source is not None \
        and disk.element.find("shareable") is None


def source_disks(conn, xml):
    """SourceDisk of every disk a clone copies; InvalidConfig for a disk that is no volume of a pool."""
    disks = []
    for disk in DomainXML.from_xml(xml, trusted=True).disks:
        if not _copied(disk):
            continue
        try:
            if disk.source_pool and disk.source_volume:
                volume = conn.storagePoolLookupByName(disk.source_pool).storageVolLookupByName(disk.source_volume)
                pool_name = disk.source_pool
            elif disk.source_file or disk.source_dev:
                volume = conn.storageVolLookupByPath(disk.source_file or disk.source_dev)
                pool_name = volume.storagePoolLookupByVolume().name()
            else:
                raise InvalidConfig(_("Disk {target_dev} ({source}) is not a volume of a storage pool: it cannot "
                                      "be copied through libvirt.")
                                    .format(target_dev=disk.target_dev, source=disk.source))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                raise
            raise InvalidConfig(_("Disk {target_dev} ({source}) is in no storage pool of this host: define a "
                                  "pool over its directory to clone it.")
                                .format(target_dev=disk.target_dev, source=disk.source)) from None
        parsed = VolumeXML.from_xml(volume.XMLDesc(0), trusted=True)
        disks.append(SourceDisk(disk.target_dev, pool_name, volume.name(), parsed.format or "raw",
                                parsed.allocation or 0, parsed.capacity or 0))
    return disks


def clone_xml(xml, name, new_disks):
    """The clone's definition: `name`, no UUID (libvirt makes one), no MACs (new ones), no graphics port or
    UEFI variables file of the source; each copied disk (by target) pointing at {target: (pool, volume)}."""
    domain = DomainXML.from_xml(xml, trusted=True)
    domain.name = name
    domain.uuid = None
    for nic in domain.interfaces:
        nic.mac = None
        nic.target_dev = None
    for graphics in domain.graphics:
        if graphics.autoport is not False:
            graphics.port = None
    nvram = domain.element.find("os/nvram")
    if nvram is not None:
        nvram.getparent().remove(nvram)  # libvirt makes the clone its own from the template
    for disk in domain.disks:
        if disk.target_dev in new_disks:
            pool, volume = new_disks[disk.target_dev]
            source = disk.element.find("source")
            for attribute in list(source.attrib):
                del source.attrib[attribute]
            for child in list(source):
                source.remove(child)
            backing = disk.element.find("backingStore")
            if backing is not None:
                disk.element.remove(backing)  # the copy is flattened: no backing chain
            disk.type = "volume"
            disk.source_pool, disk.source_volume = pool, volume
    return domain.to_xml()


# --------------------------------------------------------------------------- a running VM's disks

# qemu-img (which createXMLFrom runs) cannot open an image a running QEMU holds, even paused ("Failed to get
# shared 'write' lock"): a running VM's disk is copied by QEMU itself, a block copy (drive-mirror) into a
# volume made beforehand, ended without pivoting so the VM keeps its own disk and the copy keeps the data.
_BLOCK_COPY_FLAGS = libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT | libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB


def start_block_copy(conn, uuid, target, dest_path, dest_format):
    """Start copying disk `target` of a running VM into the existing file `dest_path` (1 RPC)."""
    disk = DiskXML.file_disk(dest_path, target, format=dest_format)
    for child in disk.element.findall("target"):
        disk.element.remove(child)  # the destination is described by its source and format only
    conn.lookupByUUIDString(uuid).blockCopy(target, disk.to_xml(), {}, _BLOCK_COPY_FLAGS)


def block_copy_status(conn, uuid, target):
    """(bytes copied, bytes to copy, ready): ready once the copy caught up and mirrors (2 RPCs)."""
    dom = conn.lookupByUUIDString(uuid)
    info = dom.blockJobInfo(target, 0) or {}
    mirror = None
    for disk in DomainXML.from_xml(dom.XMLDesc(0), trusted=True).disks:
        if disk.target_dev == target:
            mirror = disk.element.find("mirror")
    ready = mirror is not None and mirror.get("ready") == "yes"
    return info.get("cur", 0), info.get("end", 0), ready


def end_block_copy(conn, uuid, target):
    """End the copy without switching the VM to it (after ready: the copy holds the disk as of now; before:
    cancelled, the copy is unusable)."""
    conn.lookupByUUIDString(uuid).blockJobAbort(target, 0)
