"""A full clone's pieces: which volumes a VM's disks are, and the clone's XML (new name, UUID, MACs, disks).

`source_disks(conn, xml)` resolves each writable disk to its pool and volume (1-3 RPCs a disk);
`clone_xml(xml, name, new_disks)` is pure. The copies themselves are virt/volumes.clone_volume calls,
run by the caller as long operations with progress (virt/connection.Pool.run_long).
"""
from dataclasses import dataclass

import libvirt

from .errors import InvalidConfig
from .xml.domain import DomainXML
from .xml.storage import VolumeXML


@dataclass(frozen=True)
class SourceDisk:
    target: str  # vda
    pool: str
    volume: str
    format: str
    allocation: int  # bytes in use: what a thin copy writes, for progress

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
                raise InvalidConfig(f"Disk {disk.target_dev} ({disk.source}) is not a volume of a storage pool: "
                                    "it cannot be copied through libvirt.")
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                raise
            raise InvalidConfig(f"Disk {disk.target_dev} ({disk.source}) is in no storage pool of this host: "
                                "define a pool over its directory to clone it.") from None
        parsed = VolumeXML.from_xml(volume.XMLDesc(0), trusted=True)
        disks.append(SourceDisk(disk.target_dev, pool_name, volume.name(), parsed.format or "raw",
                                parsed.allocation or 0))
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
