"""The guest OS database (osinfo-db, the one virt-manager and cockpit use): what each OS needs.

Pure: reads the XML files of Debian's `osinfo-db` package, never libvirt. Each OS
answers the creation wizard's questions: recommended and minimum memory, disk
and vCPUs, whether it has virtio drivers for disks and NICs (else SATA or IDE,
e1000e or e1000), whether it runs on the q35 machine (else the older i440fx
with IDE), and which firmware it boots with. Devices, resources and firmware are inherited
along `derives-from` and `clones` as libosinfo does.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

DB_DIRS = ("/usr/share/osinfo", "/usr/local/share/osinfo", "/etc/osinfo")
ARCH = "x86_64"

VIRTIO_BLOCK = {"http://pcisig.com/pci/1af4/1001", "http://pcisig.com/pci/1af4/1042"}
VIRTIO_NET = {"http://pcisig.com/pci/1af4/1000", "http://pcisig.com/pci/1af4/1041"}
Q35 = {"http://qemu.org/chipset/x86/q35"}  # osinfo's mark for "runs on the q35 machine (AHCI, PCIe)"
E1000E = {"http://pcisig.com/pci/8086/10d3"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
GiB = 1024 ** 3


@dataclass(frozen=True)
class GuestOS:
    short_id: str
    name: str
    family: str = ""
    distro: str = ""
    version: str = ""
    release_date: str = ""
    eol_date: str = ""
    minimum_ram: int = 0  # bytes
    recommended_ram: int = 0
    minimum_storage: int = 0
    recommended_storage: int = 0
    recommended_cpus: int = 0
    virtio_disk: bool = False
    virtio_net: bool = False
    q35: bool = False
    e1000e: bool = False
    efi: bool = False  # boots with UEFI
    bios: bool = True  # boots with BIOS

    @property
    def machine(self):
        """q35 (PCIe, AHCI, no IDE) for OSes that run on it or have virtio; else the older i440fx ("pc")."""
        return "q35" if self.q35 or self.virtio_disk else "pc"

    @property
    def disk_bus(self):
        return "virtio" if self.virtio_disk else ("sata" if self.machine == "q35" else "ide")

    @property
    def nic_model(self):
        return "virtio" if self.virtio_net else ("e1000e" if self.e1000e else "e1000")


# When the user picks no OS: what virt-manager calls "generic", with modern devices.
GENERIC = GuestOS(short_id="generic", name="Generic OS", minimum_ram=512 * 1024 ** 2, recommended_ram=GiB,
                  minimum_storage=GiB, recommended_storage=10 * GiB, recommended_cpus=1, virtio_disk=True,
                  virtio_net=True, q35=True)


def _text(element, path):
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _resources(element, kind):
    """{tag: int} of <resources arch=...><kind>, this architecture's first, then 'all'."""
    values = {}
    for arch in ("all", ARCH):
        for node in element.findall(f"resources[@arch='{arch}']/{kind}"):
            for child in node:
                if isinstance(child.tag, str) and (child.text or "").strip().isdigit():
                    values[child.tag] = int(child.text)
    return values


class _Entry:
    def __init__(self, element):
        self.id = element.get("id")
        self.short_ids = [s.text.strip() for s in element.findall("short-id") if s.text]
        self.name = _text(element, "name")
        self.family, self.distro = _text(element, "family"), _text(element, "distro")
        self.version, self.release_date = _text(element, "version"), _text(element, "release-date")
        self.eol_date = _text(element, "eol-date")
        self.parents = [e.get("id") for e in element.findall("derives-from") + element.findall("clones")]
        self.devices = {d.get("id") for d in element.findall("devices/device") if d.get("supported") != "false"}
        self.minimum, self.recommended = _resources(element, "minimum"), _resources(element, "recommended")
        self.firmware = {f.get("type"): f.get("supported") != "false"
                         for f in element.findall("firmware") if f.get("arch") in (ARCH, None)}


class OSDatabase:
    """Every OS in the osinfo-db directories, by short id."""

    def __init__(self, roots=DB_DIRS):
        self._entries = {}
        for root in roots:
            for path in sorted(Path(root, "os").glob("*/*.xml")):
                try:
                    tree = etree.parse(str(path), _PARSER)
                except etree.XMLSyntaxError:
                    continue  # one broken file must not hide the rest
                for element in tree.getroot().findall("os"):
                    entry = _Entry(element)
                    if entry.id and entry.short_ids:
                        self._entries[entry.id] = entry
        self._by_short_id = {}
        for entry in self._entries.values():
            for short_id in entry.short_ids:
                self._by_short_id.setdefault(short_id, entry)
        self._resolved = {}

    def __len__(self):
        return len(self._entries)

    def _lineage(self, entry):
        """The entry, then its ancestors nearest first (each once)."""
        seen, order, queue = set(), [], [entry]
        while queue:
            current = queue.pop(0)
            if current.id in seen:
                continue
            seen.add(current.id)
            order.append(current)
            queue.extend(self._entries[p] for p in current.parents if p in self._entries)
        return order

    def _resolve(self, entry):
        if entry.id in self._resolved:
            return self._resolved[entry.id]
        lineage = self._lineage(entry)
        devices = set().union(*(e.devices for e in lineage))

        def nearest(attribute, key):
            return next((getattr(e, attribute)[key] for e in lineage if key in getattr(e, attribute)), 0)

        firmware = next((e.firmware for e in lineage if e.firmware), {})
        minimum_ram, minimum_storage = nearest("minimum", "ram"), nearest("minimum", "storage")
        guest = GuestOS(
            short_id=entry.short_ids[0], name=entry.name, family=entry.family, distro=entry.distro,
            version=entry.version, release_date=entry.release_date, eol_date=entry.eol_date,
            # An ancestor's recommendation can be below this OS's own minimum (Windows 10's 2 GiB).
            minimum_ram=minimum_ram, recommended_ram=max(minimum_ram, nearest("recommended", "ram")),
            minimum_storage=minimum_storage,
            recommended_storage=max(minimum_storage, nearest("recommended", "storage")),
            recommended_cpus=nearest("recommended", "n-cpus") or nearest("minimum", "n-cpus"),
            virtio_disk=bool(devices & VIRTIO_BLOCK), virtio_net=bool(devices & VIRTIO_NET),
            q35=bool(devices & Q35), e1000e=bool(devices & E1000E), efi=firmware.get("efi", False), bios=firmware.get("bios", True),
        )
        self._resolved[entry.id] = guest
        return guest

    def get(self, short_id):
        """The OS with this short id (e.g. 'debian11', 'win10'), or None."""
        if short_id == GENERIC.short_id:
            return GENERIC
        entry = self._by_short_id.get(short_id)
        return self._resolve(entry) if entry else None

    def all(self):
        """Every OS, newest first within each family and distro."""
        guests = [self._resolve(e) for e in self._entries.values()]
        return sorted(guests, key=lambda g: (g.family, g.distro, g.release_date or "", g.name), reverse=True)


@lru_cache(maxsize=1)
def database():
    """The machine's osinfo-db, read once per process (about 800 files)."""
    return OSDatabase()
