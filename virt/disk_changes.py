"""Disk changes of a domain: attach a new or existing volume, detach, bus and cache, CD-ROM media.

Part of virt.hardware.HardwareChanges (its docstring says the rules every change follows). Only volumes of
the host's storage pools are attached or inserted: a path is looked up as a volume, never taken as any file.
"""
import re
import time

import libvirt

from . import lifecycle
from .domain_config import ConfigChanges
from .errors import InvalidValue, NotFound, OperationInvalid
from .volumes import collect_volume, create_volume, delete_volume
from .xml.devices import DiskXML
from .xml.domain import DomainXML

DISK_BUSES = ("virtio", "sata", "scsi", "ide", "usb")
# "default" leaves the choice to the hypervisor (no cache attribute).
CACHE_MODES = ("default", "none", "writeback", "writethrough", "directsync", "unsafe")
_TARGET_PREFIXES = {"virtio": "vd", "sata": "sd", "scsi": "sd", "usb": "sd", "ide": "hd"}
_TARGET = re.compile(r"^(vd|sd|hd)[a-z]{1,2}$")
# QEMU's words when the guest closed the tray between libvirt opening it and inserting the medium.
_TRAY_CLOSED_AGAIN = "is not open"
_TRAY_ATTEMPTS = 4


def choice(value, choices, field):
    if value not in choices:
        raise InvalidValue(field, f"{field}: {value!r} is not one of {', '.join(choices)}.")
    return value


def next_target(taken, bus):
    """The first free target name for `bus` (vda, vdb, ... vdz, vdaa, ...) given the names `taken`. Pure."""
    prefix = _TARGET_PREFIXES[choice(bus, DISK_BUSES, "bus")]
    letters = "abcdefghijklmnopqrstuvwxyz"
    for name in [*letters, *(a + b for a in letters for b in letters)]:
        if prefix + name not in taken:
            return prefix + name
    raise InvalidValue("target", "No free target name is left on this bus.")


def check_target(target, bus, taken):
    """`target` if it is a well-formed, free name matching `bus` (vd* for virtio, sd* for sata/scsi/usb, hd* ide)."""
    if not isinstance(target, str) or not _TARGET.match(target):
        raise InvalidValue("target", f"target: {target!r} is not a disk target name such as vdb or sdb.")
    if not target.startswith(_TARGET_PREFIXES[bus]):
        raise InvalidValue("target", f"target: a {bus} disk is named {_TARGET_PREFIXES[bus]}*, not {target}.")
    if target in taken:
        raise InvalidValue("target", f"target: the VM already has a disk {target}.")
    return target


def _disk(domain, target):
    disk = next((d for d in domain.disks if d.target_dev == target), None)
    if disk is None:
        raise NotFound(f"The VM has no disk {target!r}.")
    return disk


class DiskChanges(ConfigChanges):
    def attach_new_volume(self, pool, name, size_bytes, *, volume_format="qcow2", allocation="thin", target=None,
                          bus="virtio", cache="default", affect=None):
        """Create a volume in `pool` and attach it; if the attach fails, the volume is deleted again."""
        target = self._check_disk_placement(target, bus, cache)
        conn = self._dom.connect()
        # Asked first: drivers word "exists" differently (the test driver: "operation failed").
        if self._find_volume(pool, name) is not None:
            raise InvalidValue("name", f"name: pool {pool} already has a volume {name!r}.")
        record = create_volume(conn, pool, name, size_bytes, volume_format=volume_format, allocation=allocation)
        try:
            return self._attach_record(record, "disk", target, bus, cache, affect)
        except Exception:
            delete_volume(conn, pool, name)
            raise

    def attach_volume(self, pool, name, *, device="disk", target=None, bus=None, cache="default", affect=None):
        """Attach an existing volume as a disk or a CD-ROM (read-only)."""
        bus = bus or ("sata" if device == "cdrom" else "virtio")
        target = self._check_disk_placement(target, bus, cache)
        return self._attach_record(self._volume(pool, name), choice(device, ("disk", "cdrom"), "device"),
                                   target, bus, cache, affect)

    def attach_path(self, path, **kwargs):
        """Attach the volume at `path`: it must belong to one of the host's storage pools (no other host file)."""
        record = self._volume_at(path)
        return self.attach_volume(record.pool, record.name, **kwargs)

    def detach_disk(self, target, affect=None):
        """Remove the disk at `target` (its image stays). Returns where it went: without "live" when the running
        guest has not released it (an OS must; QEMU's driver waits 5 s): it is gone at the next boot."""
        where = self.detach_device(_disk(self.definition_for(affect), target), affect)
        return self._still_running(where, lambda domain: any(d.target_dev == target for d in domain.disks))

    def update_disk(self, target, *, bus=None, cache=None):
        """Change a disk's bus or cache mode: in the configuration (the next boot), never live."""
        if bus is not None:
            choice(bus, DISK_BUSES, "bus")
        if cache is not None:
            choice(cache, CACHE_MODES, "cache")
        _disk(self.definition_for(lifecycle.CONFIG), target)

        def edit(domain):
            disk = _disk(domain, target)
            if bus is not None and bus != disk.target_bus:
                disk.target_bus = bus
                for address in disk.element.findall("address"):  # the old bus's slot means nothing on the new one
                    disk.element.remove(address)
            if cache is not None:
                disk.cache = None if cache == "default" else cache

        return self.redefine(edit)

    def change_media(self, target, *, pool=None, volume=None, path=None, affect=None):
        """Insert a volume (pool and volume, or its path) into the CD-ROM at `target`; neither: eject."""
        record = None
        if path is not None:
            record = self._volume_at(path)
        elif pool is not None or volume is not None:
            record = self._volume(pool, volume)

        def locate(domain):
            disk = _disk(domain, target)
            if disk.device not in ("cdrom", "floppy"):
                raise InvalidValue("target", f"target: {target} is a {disk.device}, not a CD-ROM drive.")
            return disk

        locate(self.current_definition())

        def change(disk):
            for source in disk.element.findall("source"):
                disk.element.remove(source)
            if record is not None:
                disk.type = "block" if record.type == "block" else "file"
                if record.type == "block":
                    disk.source_dev = record.path
                else:
                    disk.source_file = record.path

        for attempt in range(1, _TRAY_ATTEMPTS + 1):
            try:
                return self.update_each_place(locate, change, affect)
            except OperationInvalid as exc:
                # A guest that probes its drive (firmware at boot, the OS's CD driver) may close the tray
                # again in between; libvirt opens it anew on the next try. Nothing changed meanwhile.
                if _TRAY_CLOSED_AGAIN not in exc.message or attempt == _TRAY_ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)

    def _check_disk_placement(self, target, bus, cache):
        choice(bus, DISK_BUSES, "bus")
        choice(cache, CACHE_MODES, "cache")
        taken = {d.target_dev for d in self.current_definition().disks}
        if self.is_persistent() and self.is_active():
            taken |= {d.target_dev for d in DomainXML.from_xml(self.xml_desc(inactive=True), trusted=True).disks}
        return next_target(taken, bus) if target in (None, "") else check_target(target, bus, taken)

    def _attach_record(self, record, device, target, bus, cache, affect):
        if record.type not in ("file", "block"):
            raise InvalidValue("volume", f"volume: a {record.type} volume cannot be attached as a disk.")
        if device == "cdrom":
            disk = DiskXML.cdrom(target, path=record.path, bus=bus)
        else:
            disk = DiskXML.file_disk(record.path, target, bus=bus, format=record.format or "raw",
                                     cache=None if cache == "default" else cache)
        if record.type == "block":
            disk.type, disk.source_file, disk.source_dev = "block", None, record.path
        return {"target": target, "applied": self.attach_device(disk, affect)}

    def _volume(self, pool, name):
        for field, value in (("pool", pool), ("volume", name)):
            if not isinstance(value, str) or not value:
                raise InvalidValue(field, f"{field}: a name is required.")
        record = self._find_volume(pool, name)
        if record is None:
            raise InvalidValue("volume", f"volume: pool {pool} has no volume {name!r}.")
        return record

    def _find_volume(self, pool, name):
        """The volume's record, or None; InvalidValue("pool") when the host has no such pool."""
        try:
            return collect_volume(self._dom.connect(), pool, name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
                raise
            raise InvalidValue("pool", f"pool: the host has no storage pool {pool!r}.") from None

    def _volume_at(self, path):
        if not isinstance(path, str) or not path.startswith("/") or "/../" in f"{path}/" or "\0" in path:
            raise InvalidValue("path", f"path: {str(path)[:80]!r} is not an absolute path.")
        conn = self._dom.connect()
        try:
            volume = conn.storageVolLookupByPath(path)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                raise
            raise InvalidValue("path", f"path: {path} is not a volume of any storage pool of this host.") from None
        return self._volume(volume.storagePoolLookupByVolume().name(), volume.name())
