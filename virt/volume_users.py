"""Which domains of a host use a volume: read from their live and persistent XML (1 + 2 to 4 RPCs per domain).

The inventory keeps no disk paths, so this runs only where the answer matters: a volume's page and
the check before a delete. A disk refers to a volume by its path (file, block device) or by
pool and volume name (`<disk type='volume'>`).
"""
from dataclasses import dataclass

import libvirt

from .xml.domain import DomainXML


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
