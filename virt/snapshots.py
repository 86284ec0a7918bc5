"""A domain's snapshots: list as a tree, create internal or external, revert, delete.

Internal (qcow2 only): disks, and the memory of a running VM, are saved inside the
disk images; libvirt reverts and deletes them itself. External disk-only: each disk's
image is frozen and a new overlay file takes the writes; deleting one merges its
overlay back (libvirt's block commit). Reverting to one needs libvirt 9.9; before
that, see virt/external_revert.py. Reached through Domain.snapshots.
"""
import secrets
import time

import libvirt

from .errors import OperationInvalid
from .external_revert import chain_files, plan_external_revert, referenced_files
from .names import check_name
from .xml.snapshot import SnapshotXML
from .i18n import _, gettext_noop

# The first libvirt that reverts to external snapshots itself.
NATIVE_EXTERNAL_REVERT = 9_009_000
_EXTERNAL = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC


def _checked(name):
    # libvirt keeps a snapshot's metadata in a file named after it, and names external overlays after it.
    return check_name(name, gettext_noop("snapshot name"))


def revert_stamp():
    """Unique text for the fresh overlays of one manual revert (two in the same second must not collide)."""
    return f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"


def tree_order(entries):
    """Entries (dicts with name, parent, created) depth-first, children oldest first, each given its `depth`.

    A snapshot whose parent is unknown counts as a root. Pure.
    """
    names = {entry["name"] for entry in entries}
    children = {}
    for entry in entries:
        parent = entry["parent"] if entry["parent"] in names else None
        children.setdefault(parent, []).append(entry)
    ordered = []

    def visit(parent, depth):
        for entry in sorted(children.get(parent, []), key=lambda e: (e["created"] or 0, e["name"])):
            ordered.append({**entry, "depth": depth})
            visit(entry["name"], depth + 1)

    visit(None, 0)
    return ordered


def describe(snapshot_xml, current_name):
    """What a list shows of one snapshot, from its XML. Pure."""
    snapshot = SnapshotXML.from_xml(snapshot_xml, trusted=True)
    return {
        "name": snapshot.name,
        "parent": snapshot.parent,
        "current": snapshot.name == current_name,
        "created": snapshot.creation_time,
        "state": snapshot.state,
        "description": snapshot.description or "",
        "kind": snapshot.kind,
        "memory": snapshot.memory_snapshot not in (None, "no"),
    }


class Snapshots:
    def __init__(self, dom):
        self._dom = dom

    def _current_name(self):
        return self._dom.snapshotCurrent(0).getName() if self._dom.hasCurrentSnapshot(0) else None

    def _xml(self, snap):
        return snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE)

    def list(self):
        """Every snapshot (see describe), in tree order with its depth (see tree_order)."""
        current = self._current_name()
        return tree_order([describe(s.getXMLDesc(0), current) for s in self._dom.listAllSnapshots(0)])

    def exists(self, name):
        return name in {snap.getName() for snap in self._dom.listAllSnapshots(0)}

    def get(self, name):
        return describe(self._dom.snapshotLookupByName(name, 0).getXMLDesc(0), self._current_name())

    def xml(self, name, secure=False):
        """The snapshot's XML; secure includes passwords of the recorded definition (never show those)."""
        snap = self._dom.snapshotLookupByName(name, 0)
        return self._xml(snap) if secure else snap.getXMLDesc(0)

    def create_internal(self, name, description=None):
        """Inside the qcow2 images: the disks, plus the memory when the VM runs (it pauses meanwhile)."""
        snap = self._dom.snapshotCreateXML(SnapshotXML.build(_checked(name), description).to_xml(), 0)
        return describe(snap.getXMLDesc(0), snap.getName())

    def create_external(self, name, description=None):
        """Disk-only, atomic: every disk gets a new overlay next to its image (all or none). No memory."""
        snap = self._dom.snapshotCreateXML(SnapshotXML.build(_checked(name), description).to_xml(), _EXTERNAL)
        return describe(snap.getXMLDesc(0), snap.getName())

    def revert(self, name, discard_current=False):
        """Go back to the snapshot. Internal ones, and external ones on libvirt 9.9 and later, by libvirt
        ("method": "native"); external ones before that by virtdeck, shut-off VMs only ("manual", where
        discard_current is revert_external_manually's)."""
        snap = self._dom.snapshotLookupByName(name, 0)
        kind = SnapshotXML.from_xml(snap.getXMLDesc(0), trusted=True).kind
        if kind == "internal" or self._dom.connect().getLibVersion() >= NATIVE_EXTERNAL_REVERT:
            self._dom.revertToSnapshot(snap, 0)
            return {"name": name, "method": "native"}
        return self.revert_external_manually(name, discard_current=discard_current)

    def revert_external_manually(self, name, discard_current=False):
        """Revert a shut-off VM to an external disk-only snapshot without libvirt's help.

        Exactly what it does and its limits: virt/external_revert.py. discard_current: also delete the
        overlays that held the state being left, where no snapshot refers to them and a storage pool
        covers them. Returns {"name", "method": "manual", "images", "overlays", "removed", "left"}.
        """
        if self._dom.isActive():
            raise OperationInvalid(_("This libvirt cannot revert a running VM to an external snapshot: shut the "
                                     "VM down first."))
        snap = self._dom.snapshotLookupByName(name, 0)
        snapshot_xml = self._xml(snap)
        before = self._dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
        plan = plan_external_revert(snapshot_xml, before, revert_stamp())
        conn = self._dom.connect()
        conn.defineXML(plan.domain_xml)
        try:
            self._dom.snapshotCreateXML(
                plan.overlay_request, libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
                | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA)
        except libvirt.libvirtError:
            conn.defineXML(before)  # never leave the VM to write into the snapshot's frozen images
            raise
        self._dom.snapshotCreateXML(snapshot_xml, libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
                                    | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
        removed, left = [], list(plan.abandoned)
        if discard_current:
            removed, left = self._remove_unreferenced(plan.abandoned)
        return {"name": name, "method": "manual", "images": plan.images, "overlays": plan.overlays,
                "removed": removed, "left": left}

    def _remove_unreferenced(self, paths):
        needed = referenced_files(self._xml(s) for s in self._dom.listAllSnapshots(0))
        needed |= chain_files(self._dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        removed, left, refreshed = [], [], False
        for path in paths:
            volume = None if path in needed else self._volume(path)
            if volume is None and path not in needed and not refreshed:
                # Overlays made by snapshots are unknown to a pool until it rescans its directory.
                for pool in self._dom.connect().listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
                    pool.refresh(0)
                refreshed = True
                volume = self._volume(path)
            if volume is None:
                left.append(path)  # still needed, or no storage pool covers it: libvirt cannot delete it
            else:
                volume.delete(0)
                removed.append(path)
        return removed, left

    def _volume(self, path):
        try:
            return self._dom.connect().storageVolLookupByPath(path)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                raise
            return None

    def delete(self, name):
        """Delete the snapshot: libvirt drops an internal one from the images and merges an external one's
        overlay into the image below it. Returns {"name", "metadata_only", "files_left"}.

        An external snapshot whose overlays are no longer in the VM's disk chain (after a manual revert)
        cannot be merged by libvirt 9.0; then only its metadata goes, and files_left names its overlays
        (which a manual revert with discard_current may have deleted already). libvirt 9.0 cannot merge
        either an external snapshot of a shut-off VM that later snapshots build on (measured on the lab;
        a running VM merges it live): OperationInvalid then, and nothing changes.
        """
        snap = self._dom.snapshotLookupByName(name, 0)
        snapshot = SnapshotXML.from_xml(snap.getXMLDesc(0), trusted=True)
        try:
            snap.delete(0)
        except libvirt.libvirtError as exc:
            overlays = [path for path in snapshot.external_disks.values() if path]
            if snapshot.kind != "external" or exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                raise
            # A shut-off VM's XML does not show the backing chain: later snapshots' records tell who needs it.
            dependants = sorted(other.getName() for other in self._dom.listAllSnapshots(0)
                                if other.getName() != name and referenced_files([other.getXMLDesc(0)]) & set(overlays))
            if dependants:
                raise OperationInvalid(
                    _("libvirt cannot merge snapshot {name} while the VM is shut off and other snapshots build "
                      "on it ({dependants}): start the VM (it is merged live then), or delete those first.")
                    .format(name=name, dependants=', '.join(dependants))
                ) from None
            if chain_files(self._dom.XMLDesc(0)) & set(overlays):
                raise
            snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
            return {"name": name, "metadata_only": True, "files_left": overlays}
        return {"name": name, "metadata_only": False, "files_left": []}
