"""`<domain>`: the guest definition, and a display summary of it."""
from lxml import etree

from .base import XMLChildren, XMLObject, XMLProperty, insert_ordered
from .devices import DiskXML, GraphicsXML, InterfaceXML
from .units import MemoryProperty

__all__ = ["DomainXML", "DiskXML", "InterfaceXML", "GraphicsXML", "summarize"]


class DomainXML(XMLObject):
    """`<domain type='kvm|qemu|test'>`. Memory is read and written in KiB whatever the unit."""

    ROOT_TAG = "domain"
    ORDER = (
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
        "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "cputune", "numatune",
        "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock",
        "on_poweroff", "on_reboot", "on_crash", "pm", "perf", "devices", "seclabel",
    )

    type = XMLProperty("./@type")
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    title = XMLProperty("./title")
    description = XMLProperty("./description")
    memory_kib = MemoryProperty("./memory")
    current_memory_kib = MemoryProperty("./currentMemory")
    vcpus = XMLProperty("./vcpu", int)  # the maximum
    vcpus_current = XMLProperty("./vcpu/@current", int)  # online at boot, when fewer than the maximum
    os_type = XMLProperty("./os/type")  # hvm for full virtualization
    arch = XMLProperty("./os/type/@arch")
    machine = XMLProperty("./os/type/@machine")
    firmware = XMLProperty("./os/@firmware")  # efi or bios: libvirt picks a matching loader (>= 5.2)
    on_poweroff = XMLProperty("./on_poweroff")  # destroy, restart, preserve, rename-restart
    on_reboot = XMLProperty("./on_reboot")
    on_crash = XMLProperty("./on_crash")  # also coredump-destroy, coredump-restart
    emulator = XMLProperty("./devices/emulator")

    disks = XMLChildren("./devices/disk", DiskXML)
    interfaces = XMLChildren("./devices/interface", InterfaceXML)
    graphics = XMLChildren("./devices/graphics", GraphicsXML)

    @property
    def boot_devices(self):
        """The `<os><boot dev=...>` order: e.g. ["cdrom", "hd"]. Per-device `boot_order` is the alternative."""
        os_element = self.element.find("os")
        return [] if os_element is None else [boot.get("dev") for boot in os_element.iterchildren("boot")]

    @boot_devices.setter
    def boot_devices(self, devices):
        os_element = self.element.find("os")
        if os_element is None:
            if not devices:
                return
            os_element = etree.Element("os")
            insert_ordered(self.element, os_element, self.ORDER)
        old = list(os_element.iterchildren("boot"))
        # New entries go where the old ones were, else after <type>/<loader>/<nvram>, as libvirt prints them.
        anchor = old[0].getprevious() if old else None
        if not old:
            for tag in ("type", "loader", "nvram"):
                anchor = next(os_element.iterchildren(tag), anchor)
        for boot in old:
            os_element.remove(boot)
        for position, dev in enumerate(devices):
            boot = etree.Element("boot", dev=dev)
            if anchor is None:
                os_element.insert(position, boot)
            else:
                anchor.addnext(boot)
            anchor = boot


def summarize(xml_text, trusted=False):
    """What a list or detail page shows about a domain, from its XML. Never includes secrets.

    trusted: the XML comes from libvirt (no hostile-input checks needed).
    """
    domain = DomainXML.from_xml(xml_text, trusted=trusted)
    return {
        "name": domain.name,
        "uuid": domain.uuid,
        "type": domain.type,
        "memory_kib": domain.memory_kib,
        "current_memory_kib": domain.current_memory_kib,
        "vcpus": domain.vcpus,
        "arch": domain.arch,
        "machine": domain.machine,
        "disks": [
            {
                "device": disk.device,
                "target": disk.target_dev,
                "bus": disk.target_bus,
                "source": disk.source,
                "format": disk.format,
                "readonly": disk.readonly,
            }
            for disk in domain.disks
        ],
        "interfaces": [
            {"type": nic.type, "mac": nic.mac, "source": nic.source, "model": nic.model}
            for nic in domain.interfaces
        ],
        # port -1 means autoport has not picked one yet (the guest is off): show None.
        "graphics": [
            {"type": g.type, "port": g.port if g.port is None or g.port >= 0 else None, "listen": g.listen}
            for g in domain.graphics
        ],
    }
