"""Domain devices: disks, network interfaces, graphics (libvirt's formatdomain.html).

Each class also has builders (`DiskXML.file_disk`, `InterfaceXML.build`, ...) for the devices the wizard
and the device forms add; a built device serializes on its own for attach/update (`to_xml()`).
"""
import re

from lxml import etree

from ..errors import InvalidConfig
from .base import XMLObject, XMLProperty, insert_ordered
from ..i18n import _

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class DiskXML(XMLObject):
    """`<disk type='file|block|network|volume' device='disk|cdrom|floppy|lun'>`."""

    ROOT_TAG = "disk"
    ORDER = (
        "driver", "auth", "source", "backingStore", "geometry", "blockio", "target", "iotune",
        "readonly", "shareable", "transient", "serial", "wwn", "encryption", "boot", "alias", "address",
    )

    type = XMLProperty("./@type")
    device = XMLProperty("./@device")
    driver_name = XMLProperty("./driver/@name")
    format = XMLProperty("./driver/@type")  # raw, qcow2, ...
    cache = XMLProperty("./driver/@cache")  # none, writeback, writethrough, directsync, unsafe
    source_file = XMLProperty("./source/@file")
    source_dev = XMLProperty("./source/@dev")
    source_pool = XMLProperty("./source/@pool")
    source_volume = XMLProperty("./source/@volume")
    source_protocol = XMLProperty("./source/@protocol")  # network disks: rbd, nbd, iscsi, ...
    source_name = XMLProperty("./source/@name")
    target_dev = XMLProperty("./target/@dev")
    target_bus = XMLProperty("./target/@bus")
    readonly = XMLProperty("./readonly", bool)
    boot_order = XMLProperty("./boot/@order", int)

    @property
    def source(self):
        """Where the data lives, for display: a path, a pool/volume, or protocol:name."""
        if self.source_file or self.source_dev:
            return self.source_file or self.source_dev
        if self.source_pool or self.source_volume:
            return f"{self.source_pool}/{self.source_volume}"
        if self.source_name:
            return f"{self.source_protocol}:{self.source_name}" if self.source_protocol else self.source_name
        return None

    @classmethod
    def file_disk(cls, path, target, *, bus="virtio", format="qcow2", cache=None):
        """A disk backed by an image file on the host."""
        disk = cls._new("file", "disk", target, bus, format, cache)
        disk.source_file = path
        return disk

    @classmethod
    def volume_disk(cls, pool, volume, target, *, bus="virtio", format=None, cache=None):
        """A disk backed by a volume of a libvirt storage pool (libvirt resolves the path)."""
        disk = cls._new("volume", "disk", target, bus, format, cache)
        disk.source_pool, disk.source_volume = pool, volume
        return disk

    @classmethod
    def cdrom(cls, target, *, path=None, bus="sata"):
        """A read-only CD-ROM drive, with the ISO at `path` inserted, or empty."""
        disk = cls._new("file", "cdrom", target, bus, "raw", None)
        disk.source_file = path
        disk.readonly = True
        return disk

    @classmethod
    def _new(cls, kind, device, target, bus, format, cache):
        if not target:
            raise InvalidConfig(_("A disk needs a target device name (e.g. vda)."))
        disk = cls()
        disk.type, disk.device = kind, device
        disk.driver_name, disk.format, disk.cache = "qemu", format, cache
        disk.target_dev, disk.target_bus = target, bus
        return disk


class InterfaceXML(XMLObject):
    """`<interface type='network|bridge|direct|user'>`."""

    ROOT_TAG = "interface"
    ORDER = (
        "mac", "source", "virtualport", "ip", "route", "script", "target", "guest", "model", "driver",
        "backend", "filterref", "tune", "link", "mtu", "boot", "rom", "alias", "address",
    )

    type = XMLProperty("./@type")
    mac = XMLProperty("./mac/@address")
    source_network = XMLProperty("./source/@network")
    source_bridge = XMLProperty("./source/@bridge")
    source_dev = XMLProperty("./source/@dev")  # type='direct' (macvtap): the host NIC
    source_mode = XMLProperty("./source/@mode")  # bridge, vepa, private, passthrough
    model = XMLProperty("./model/@type")  # virtio, e1000, rtl8139
    target_dev = XMLProperty("./target/@dev")  # the host-side tap, e.g. vnet0, set by libvirt
    boot_order = XMLProperty("./boot/@order", int)
    link_state = XMLProperty("./link/@state")  # up, down (a pulled cable); absent means up
    rom_enabled = XMLProperty("./rom/@enabled", "yesno")  # no: no option ROM, so no PXE boot from this NIC

    # type -> the <source> attribute naming what the NIC plugs into
    SOURCE_ATTRIBUTES = {"network": "source_network", "bridge": "source_bridge", "direct": "source_dev"}

    @property
    def source(self):
        """The network, bridge or host device the NIC is attached to; None for type='user'."""
        return self.source_network or self.source_bridge or self.source_dev

    @classmethod
    def build(cls, type, source=None, *, model="virtio", mac=None, link_up=True, source_mode="bridge"):
        """A NIC on a virtual network, a host bridge, a host NIC (`direct`, macvtap in `source_mode`),
        or `user`/`ethernet` (no source). `mac` None lets libvirt pick one."""
        nic = cls()
        nic.type = type
        if type in cls.SOURCE_ATTRIBUTES:
            if not source:
                raise InvalidConfig(_("A {type} interface needs a source.").format(type=type))
            setattr(nic, cls.SOURCE_ATTRIBUTES[type], source)
            if type == "direct":
                nic.source_mode = source_mode
        elif type not in ("user", "ethernet"):
            raise InvalidConfig(_("Unknown interface type {type!r}.").format(type=type))
        if mac is not None:
            mac = mac.strip().lower()
            if not _MAC.match(mac):
                raise InvalidConfig(_("Not a MAC address: {mac!r}.").format(mac=mac))
            if int(mac[:2], 16) & 1 or mac == "00:00:00:00:00:00":  # the group bit: not one NIC's address
                raise InvalidConfig(_("{mac} is a multicast or null address, not one a NIC can have.")
                                    .format(mac=mac))
            nic.mac = mac
        nic.model = model
        nic.link_state = None if link_up else "down"
        return nic


class GraphicsXML(XMLObject):
    """`<graphics type='vnc|spice'>`.

    `passwd` is a secret: libvirt only includes it with VIR_DOMAIN_XML_SECURE,
    and it must never reach a browser, a log or a summary.
    """

    ROOT_TAG = "graphics"
    ORDER = ("listen", "channel", "image", "streaming", "clipboard", "mouse", "filetransfer", "gl", "audio")

    type = XMLProperty("./@type")
    port = XMLProperty("./@port", int)  # -1 while autoport has not assigned one yet
    autoport = XMLProperty("./@autoport", "yesno")
    passwd = XMLProperty("./@passwd")
    keymap = XMLProperty("./@keymap")

    @property
    def listen(self):
        """The listen address: the legacy attribute, else the first `<listen type='address'>`."""
        first = self._first_address_listen()
        return self.element.get("listen") or (first.get("address") if first is not None else None)

    @listen.setter
    def listen(self, address):
        # libvirt rejects a listen attribute that differs from the first <listen> address: keep both in step.
        first = self._first_address_listen()
        if address is None:
            self.element.attrib.pop("listen", None)
            if first is not None:
                self.element.remove(first)
        elif first is not None:
            self.element.set("listen", address)
            first.set("address", address)
        else:
            self.element.set("listen", address)
            insert_ordered(self.element, etree.Element("listen", type="address", address=address), self.ORDER)

    @classmethod
    def vnc(cls, listen="127.0.0.1", *, passwd=None, port=None):
        """VNC graphics on `listen`; `port` None lets libvirt pick one (autoport)."""
        graphics = cls()
        graphics.type = "vnc"
        graphics.port = port
        graphics.autoport = port is None
        graphics.listen = listen
        graphics.passwd = passwd
        return graphics

    def _first_address_listen(self):
        first = next(self.element.iterchildren("listen"), None)
        return first if first is not None and first.get("type") == "address" else None
