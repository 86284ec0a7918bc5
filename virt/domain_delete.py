"""Deleting a domain: its definition and what libvirt keeps beside it, and on request its disk images.

Undefine (Domain.undefine) removes the definition with its managed save image, snapshot
and checkpoint metadata and UEFI variables. With delete_volumes the VM's disk images go
too, each through the storage pool that holds it (libvirt deletes; virtdeck never unlinks
a file itself). Which images are the VM's (owned_disks, pure):

- each disk's source (device='disk' only: a CD-ROM's ISO or a floppy image is shared
  media), in the persistent and the running definition;
- every image the VM's snapshots recorded, and the overlays its external snapshots
  created: the frozen images under the current overlays go with them.

Backing images nothing of this VM's recorded (a template under a linked clone) are not
the VM's and stay. An image another domain of the host uses stays too, and so does one
no storage pool holds (libvirt cannot delete it): the answer lists each with the reason.
"""
import copy

import libvirt

from .xml.domain import DomainXML
from .xml.snapshot import SnapshotXML

# Why an image was left (the application translates these codes).
NOT_IN_POOL = "not_in_pool"
USED_ELSEWHERE = "used_by_another_vm"
NETWORK_DISK = "network_disk"


def _domains_in_snapshot(snapshot_xml):
    """The definitions a snapshot recorded (live `<domain>`, persistent `<inactiveDomain>`), as DomainXML."""
    root = SnapshotXML.from_xml(snapshot_xml, trusted=True).element
    found = []
    for element in root.xpath("domain | inactiveDomain"):
        element = copy.deepcopy(element)
        element.tag = "domain"
        found.append(DomainXML(element))
    return found


def disk_sources(domain, devices=("disk",)):
    """{'paths': files and block devices, 'volumes': (pool, volume) pairs, 'network': names} of the
    domain's disks of the given device kinds (a DomainXML). Pure."""
    found = {"paths": set(), "volumes": set(), "network": set()}
    for disk in domain.disks:
        if devices is not None and (disk.device or "disk") not in devices:
            continue
        if disk.source_file or disk.source_dev:
            found["paths"].add(disk.source_file or disk.source_dev)
        elif disk.source_pool and disk.source_volume:
            found["volumes"].add((disk.source_pool, disk.source_volume))
        elif disk.source_name:
            found["network"].add(disk.source)
    return found


def owned_disks(domain_xmls, snapshot_xmls):
    """The VM's disk images (see the module's docstring), as disk_sources returns them. Pure."""
    owned = {"paths": set(), "volumes": set(), "network": set()}
    domains = [DomainXML.from_xml(text, trusted=True) for text in domain_xmls]
    for text in snapshot_xmls:
        domains.extend(_domains_in_snapshot(text))
        owned["paths"].update(path for path in SnapshotXML.from_xml(text, trusted=True).external_disks.values()
                              if path)
    for domain in domains:
        for key, values in disk_sources(domain).items():
            owned[key] |= values
    return owned


def used_by(domain_xml):
    """Every image a definition reads: all its disks (CD-ROMs too) and the backing chains libvirt printed. Pure."""
    element = DomainXML.from_xml(domain_xml, trusted=True).element
    return set(element.xpath("devices/disk//source/@file | devices/disk//source/@dev"))


def _other_users(conn, uuid):
    """{image path: name of another domain of the host using it}: O(domains) RPCs, for a delete only."""
    users = {}
    for other in conn.listAllDomains(0):
        if other.UUIDString() == uuid:
            continue
        try:
            texts = [other.XMLDesc(0)]
            if other.isActive() and other.isPersistent():
                texts.append(other.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # gone meanwhile
            raise
        for text in texts:
            for path in used_by(text):
                users.setdefault(path, other.name())
    return users


def _lookup_by_path(conn, path, refreshed):
    """The volume at `path`, or None if no pool holds it. Overlays made by snapshots are unknown to a pool
    until it rescans its directory: the active pools are refreshed once (refreshed: a one-item list)."""
    volume = _volume_at(conn, path)
    if volume is None and not refreshed[0]:
        for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
            pool.refresh(0)
        refreshed[0] = True
        volume = _volume_at(conn, path)
    return volume


def _volume_at(conn, path):
    try:
        return conn.storageVolLookupByPath(path)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise
        return None


def _lookup_volume(conn, pool_name, name):
    try:
        return conn.storagePoolLookupByName(pool_name).storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in (libvirt.VIR_ERR_NO_STORAGE_VOL, libvirt.VIR_ERR_NO_STORAGE_POOL):
            return None
        raise


def _delete_images(conn, uuid, owned):
    """Delete the owned images through their pools: {"deleted": [...], "left": [{"path", "reason"}]}."""
    users = _other_users(conn, uuid)
    deleted, left, refreshed = [], [], [False]
    for path in sorted(owned["paths"]):
        if path in users:
            left.append({"path": path, "reason": USED_ELSEWHERE, "vm": users[path]})
            continue
        volume = _lookup_by_path(conn, path, refreshed)
        if volume is None:
            left.append({"path": path, "reason": NOT_IN_POOL})
            continue
        volume.delete(libvirt.VIR_STORAGE_VOL_DELETE_NORMAL)
        deleted.append(path)
    for pool_name, name in sorted(owned["volumes"]):
        volume = _lookup_volume(conn, pool_name, name)
        label = f"{pool_name}/{name}"
        if volume is None:
            left.append({"path": label, "reason": NOT_IN_POOL})
        elif volume.path() in users:
            left.append({"path": label, "reason": USED_ELSEWHERE, "vm": users[volume.path()]})
        else:
            volume.delete(libvirt.VIR_STORAGE_VOL_DELETE_NORMAL)
            deleted.append(label)
    left.extend({"path": name, "reason": NETWORK_DISK} for name in sorted(owned["network"]))
    return {"deleted": deleted, "left": left}


def owned_images(domain):
    """The images a delete with delete_volumes considers the VM's (owned_disks of its definitions and its
    snapshots'), before it asks which of them another VM uses or no pool holds. Reads only."""
    dom = domain._dom
    texts = [dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)]
    if dom.isActive():
        texts.append(dom.XMLDesc(0))
    return owned_disks(texts, [snap.getXMLDesc(0) for snap in dom.listAllSnapshots(0)])


def delete_domain(domain, delete_volumes=False, keep_nvram=False):
    """Undefine `domain` (a virt.domain.Domain of a shut-off VM), then with delete_volumes delete its images.

    The images are listed before the definition and its snapshots' metadata go. Returns
    {"deleted": [images], "left": [{"path", "reason", ("vm")}]} (both empty without delete_volumes).
    """
    dom = domain._dom
    owned = owned_images(domain) if delete_volumes else None
    uuid = dom.UUIDString()
    domain.undefine(keep_nvram=keep_nvram)
    if owned is None:
        return {"deleted": [], "left": []}
    return _delete_images(dom.connect(), uuid, owned)
