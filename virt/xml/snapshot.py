"""`<domainsnapshot>`: what virtdeck sends to create a snapshot and reads back (libvirt's formatsnapshot.html).

What libvirt prints for a snapshot: name, description, state (the VM's state when it
was taken, or `disk-snapshot`), parent, creationTime, `<memory snapshot=...>`, one
`<disks><disk name='vda' snapshot='internal|external|no'>` per disk (an external one
names the overlay created for it), and the VM's definition at that moment: `<domain>`
(plus `<inactiveDomain>`, the persistent definition, when the VM was running).
"""
import copy

from .base import XMLChildren, XMLObject, XMLProperty
from .domain import DomainXML


class SnapshotDiskXML(XMLObject):
    """`<disk name='vda' snapshot='external'>` inside a snapshot: how that disk is captured."""

    ROOT_TAG = "disk"
    ORDER = ("driver", "source")

    name = XMLProperty("./@name")  # the domain disk's target (vda) or its source path
    snapshot = XMLProperty("./@snapshot")  # internal, external, no, manual
    type = XMLProperty("./@type")  # of the overlay: file, block, ...
    format = XMLProperty("./driver/@type")  # of the overlay: qcow2
    source_file = XMLProperty("./source/@file")  # the overlay created on top of the disk's image


class SnapshotXML(XMLObject):
    ROOT_TAG = "domainsnapshot"
    ORDER = (
        "name", "description", "state", "parent", "creationTime", "memory", "disks", "active", "domain",
        "inactiveDomain", "cookie",
    )

    name = XMLProperty("./name")
    description = XMLProperty("./description")
    state = XMLProperty("./state")  # running, paused, shutoff, disk-snapshot, ...
    parent = XMLProperty("./parent/name")
    creation_time = XMLProperty("./creationTime", int)  # seconds since the epoch
    memory_snapshot = XMLProperty("./memory/@snapshot")  # internal, external, no
    memory_file = XMLProperty("./memory/@file")
    disks = XMLChildren("./disks/disk", SnapshotDiskXML)

    @property
    def kind(self):
        """"external" when any disk or the memory went to a separate file, else "internal"."""
        external = self.memory_snapshot == "external" or any(d.snapshot == "external" for d in self.disks)
        return "external" if external else "internal"

    @property
    def external_disks(self):
        """{disk name: overlay path} of the disks captured externally."""
        return {d.name: d.source_file for d in self.disks if d.snapshot == "external"}

    def definition(self):
        """The VM's persistent definition when the snapshot was taken, as a standalone DomainXML (a copy).

        `<inactiveDomain>` when the VM was running (the `<domain>` beside it is the live one), else `<domain>`.
        None for a snapshot created without it (libvirt records it since 0.9.5).
        """
        element = self.element.find("inactiveDomain")
        if element is None:
            element = self.element.find("domain")
        if element is None:
            return None
        element = copy.deepcopy(element)
        element.tag = "domain"
        element.tail = None
        return DomainXML(element)

    @classmethod
    def build(cls, name, description=None, external_disks=None):
        """What snapshotCreateXML takes. external_disks: {disk target: overlay path or None (libvirt names it)}."""
        snapshot = cls()
        snapshot.name = name
        snapshot.description = description
        for target, overlay in (external_disks or {}).items():
            disk = snapshot.disks.add()
            disk.name, disk.snapshot = target, "external"
            if overlay:
                disk.type, disk.source_file = "file", overlay
        return snapshot
