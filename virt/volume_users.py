"""Which domains of a host use a volume (read from their live and persistent XML: 1 + 2 to 4 RPCs per
domain), and pointing a shut-off domain's disks at another volume (after a conversion).

The inventory's disk paths (virt.inventory's `disks`, from the last sync) serve the volume lists; this runs
where the answer must be current and complete: a volume's page and the check before a delete. A disk refers to
a volume by its path (file, block device) or by pool and volume name (`<disk type='volume'>`, whose path the
block stats give only while the domain runs), and its next-boot definition may differ from the running one.
"""
from dataclasses import dataclass

import libvirt

from .domain import Domain, define
from .errors import InvalidConfig, OperationInvalid
from .xml.domain import DomainXML
from .i18n import _


@dataclass(frozen=True)
class VolumeUser:
    uuid: str
    name: str
    target: str  # the guest's device name (vda, sdb...)
    active: bool


def _matches(disk, paths, pool_name, volume_name):
    if disk.source_file in paths or disk.source_dev in paths:
        return True
    return bool(volume_name) and disk.source_pool == pool_name and disk.source_volume == volume_name


def domains_using(conn, paths, pool_name=None, volume_name=None):
    """Every domain whose disks (running or next boot) use one of `paths` or pool_name/volume_name."""
    paths = {path for path in paths if path}
    users = []
    for dom in conn.listAllDomains(0):
        try:
            active = bool(dom.isActive())
            documents = [dom.XMLDesc(0)]
            if active and dom.isPersistent():
                documents.append(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))  # a disk changed for next boot
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined since the listing
            raise
        for xml in documents:
            disk = next((d for d in DomainXML.from_xml(xml, trusted=True).disks
                         if _matches(d, paths, pool_name, volume_name)), None)
            if disk is not None:
                users.append(VolumeUser(dom.UUIDString(), dom.name(), disk.target_dev or "", active))
                break
    return sorted(users, key=lambda user: user.name)


def switch_disks(domain_xml, old, new, new_format):
    """Point every disk of a DomainXML on the `old` volume at the `new` one; return their target names. Pure.

    `old` and `new` are (paths, pool name, volume name); `new`'s paths hold its one path. A disk named by
    path (file or block) becomes a file disk of the new path; one named by pool and volume
    (`<disk type='volume'>`) keeps that form.
    """
    old_paths, old_pool, old_name = old
    new_paths, new_pool, new_name = new
    switched = []
    for disk in domain_xml.disks:
        if not _matches(disk, {path for path in old_paths if path}, old_pool, old_name):
            continue
        if disk.type == "volume":
            disk.source_pool, disk.source_volume = new_pool, new_name
        else:
            disk.type, disk.source_dev, disk.source_file = "file", None, next(iter(new_paths))
        disk.format = new_format
        switched.append(disk.target_dev or "")
    return switched


def use_volume_instead(conn, uuid, old, new, new_format):
    """Redefine a shut-off domain so that its disks on the old volume use the new one; their target names."""
    dom = Domain.lookup(conn, uuid)
    if dom.is_active():
        raise OperationInvalid(_("{name} is running: its disks are switched only while it is shut off.")
                               .format(name=dom.name))
    # secure: a redefinition must keep the graphics passwords that a plain dump leaves out
    xml = DomainXML.from_xml(dom.xml_desc(inactive=True, secure=True), trusted=True)
    switched = switch_disks(xml, old, new, new_format)
    if not switched:
        raise InvalidConfig(_("{name} has no disk on {old}.").format(name=dom.name, old=old[2]))
    define(conn, xml.to_xml())
    return switched
