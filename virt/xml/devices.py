"""Domain devices: disks, network interfaces, graphics (libvirt's formatdomain.html)."""
from lxml import etree

from .base import XMLObject, XMLProperty, insert_ordered


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

    @property
    def source(self):
        """The network, bridge or host device the NIC is attached to; None for type='user'."""
        return self.source_network or self.source_bridge or self.source_dev


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

    def _first_address_listen(self):
        first = next(self.element.iterchildren("listen"), None)
        return first if first is not None and first.get("type") == "address" else None
