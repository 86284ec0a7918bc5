"""Reverting a shut-off VM to an external snapshot where libvirt cannot (before 9.9). Pure planning.

libvirt 9.0 (Debian 12) refuses `revertToSnapshot` for external snapshots ("revert
to external snapshot not supported yet"). An external disk-only snapshot froze each
disk's image at that moment and put a new overlay file on top, which took every
write since. Reverting therefore means: use the frozen images again. What the plan
does, and Snapshots.revert_external_manually applies:

1. The VM's definition becomes the one the snapshot recorded (its `<inactiveDomain>`,
   else `<domain>`), as libvirt's own revert does, under the VM's current name. Its
   externally captured disks point at the images the snapshot froze (the recorded
   sources); their `<backingStore>` is dropped so libvirt reads the chain from the images.
2. A fresh qcow2 overlay goes on top of each of those images (an external disk-only
   snapshot of the shut-off VM without metadata), so the VM never writes into the
   frozen images: the snapshot stays revertable, and any other snapshot whose overlay
   was built on them stays intact.
3. The snapshot becomes the current one, so the next snapshot is its child.

Limits:
- Only a shut-off VM, and only disk-only snapshots of file-backed disks: memory state
  saved externally cannot be restored this way, nor network or block disks re-pointed.
- Devices added since the snapshot leave the definition (as with libvirt's revert); a
  disk the snapshot did not capture externally keeps its recorded source as it is.
- The files that held the state being left (the disks' previous top overlays) stay
  on disk unless removal is asked for, and then only those no snapshot refers to.
- libvirt 9.0 then cannot merge-delete an external snapshot whose overlay is no longer
  in the VM's disk chain ("could not find base disk source in disk source chain");
  Snapshots.delete removes only its metadata in that case and says which files it left.
"""
import posixpath
import re
from dataclasses import dataclass, field

from .errors import InvalidConfig, Unsupported
from .xml.domain import DomainXML
from .xml.snapshot import SnapshotXML
from .i18n import _


@dataclass
class RevertPlan:
    domain_xml: str  # the definition to define
    overlay_request: str  # snapshotCreateXML input (disk-only, no metadata) putting fresh overlays on top
    images: dict = field(default_factory=dict)  # disk target -> the frozen image it goes back to
    overlays: dict = field(default_factory=dict)  # disk target -> the fresh overlay it will write to
    abandoned: list = field(default_factory=list)  # the files that held the state being left


def _safe_suffix(text):
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def plan_external_revert(snapshot_xml, domain_xml, stamp):
    """The plan to revert the VM whose current definition is `domain_xml` to the snapshot.

    stamp: a unique text (a timestamp) naming the fresh overlays `<image stem>.revert-<snapshot>-<stamp>`.
    """
    snapshot = SnapshotXML.from_xml(snapshot_xml, trusted=True)
    if snapshot.kind != "external":
        raise InvalidConfig(_("Snapshot {name} is internal: libvirt reverts it itself.")
                            .format(name=snapshot.name))
    if snapshot.memory_snapshot == "external":
        raise Unsupported(_("Snapshot {name} saved the memory externally: only disk-only external snapshots can "
                            "be reverted on this libvirt.").format(name=snapshot.name))
    definition = snapshot.definition()
    if definition is None:
        raise Unsupported(_("Snapshot {name} did not record the VM's definition.").format(name=snapshot.name))
    current = DomainXML.from_xml(domain_xml, trusted=True)
    definition.name = current.name
    current_sources = {disk.target_dev: disk.source_file for disk in current.disks}
    recorded = {disk.target_dev: disk for disk in definition.disks}
    request = SnapshotXML.build(f"revert-{snapshot.name}-{stamp}")
    plan = RevertPlan(domain_xml="", overlay_request="")
    suffix = _safe_suffix(f"revert-{snapshot.name}-{stamp}")
    for target in snapshot.external_disks:
        disk = recorded.get(target)
        if disk is None or disk.type != "file" or not disk.source_file:
            raise Unsupported(_("Disk {target} of snapshot {name} is not a file: it cannot be re-pointed.")
                              .format(target=target, name=snapshot.name))
        for backing in disk.element.findall("backingStore"):
            disk.element.remove(backing)
        image = disk.source_file
        plan.images[target] = image
        plan.overlays[target] = f"{posixpath.splitext(image)[0]}.{suffix}"
        previous = current_sources.get(target)
        if previous and previous != image:
            plan.abandoned.append(previous)
    for target in recorded:
        disk = request.disks.add()
        disk.name, disk.snapshot = target, "external" if target in plan.overlays else "no"
        if target in plan.overlays:
            disk.type, disk.source_file = "file", plan.overlays[target]
    plan.domain_xml = definition.to_xml()
    plan.overlay_request = request.to_xml()
    return plan


def referenced_files(snapshot_xmls):
    """Every file a snapshot needs: the images its recorded definitions use, with their backing chains."""
    files = set()
    for text in snapshot_xmls:
        root = SnapshotXML.from_xml(text, trusted=True).element
        files.update(root.xpath("domain/devices/disk//source/@file | inactiveDomain/devices/disk//source/@file"))
    return files


def chain_files(domain_xml):
    """The files a definition's disks use: each disk's source and the backing chain libvirt printed."""
    return set(DomainXML.from_xml(domain_xml, trusted=True).element.xpath("devices/disk//source/@file"))
