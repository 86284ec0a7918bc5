"""Configuration changes of a domain: devices, vCPUs, memory, disk size. Mixed into virt.domain.Domain.

Each change goes where lifecycle.affect says: by default live and into the
configuration for a running persistent VM, only the configuration for a
shut-off one. A change the running VM refuses live is reported as such.
"""
import libvirt

from . import lifecycle
from .errors import HostUnreachable, InvalidConfig, NotFound, OperationInvalid, translate
from .volumes import resize_volume
from .xml.base import XMLObject
from .xml.domain import DomainXML
from .xml.parser import parse_untrusted
from .i18n import _, gettext_noop

_AFFECT_FLAGS = {lifecycle.LIVE: libvirt.VIR_DOMAIN_AFFECT_LIVE, lifecycle.CONFIG: libvirt.VIR_DOMAIN_AFFECT_CONFIG}


def checked_text(xml):
    """XML to hand libvirt: an XMLObject serialized, or user text checked for entities and syntax."""
    if isinstance(xml, XMLObject):
        return xml.to_xml()
    parse_untrusted(xml)
    return xml


class ConfigChanges:
    """Needs `_dom`, `is_active()`, `is_persistent()` and `xml_desc()` from the class it is mixed into."""

    def _affect_flags(self, affect):
        where = lifecycle.affect(self.is_active(), self.is_persistent(), affect)
        flags = 0
        for place in where:
            flags |= _AFFECT_FLAGS[place]
        return where, flags

    def _apply(self, method, xml, affect, where=None):
        """method(xml, flags) where `affect` says, or at exactly the places `where` (a set of LIVE/CONFIG)."""
        text = checked_text(xml)
        if where is None:
            where, flags = self._affect_flags(affect)
        else:
            flags = 0
            for place in where:
                flags |= _AFFECT_FLAGS[place]
        try:
            method(text, flags)
        except libvirt.libvirtError as exc:
            error = translate(exc)
            # Only a refusal of this change: not a missing API, a bad device or a lost connection.
            if (lifecycle.LIVE not in where or exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
                    or isinstance(error, (HostUnreachable, NotFound, InvalidConfig))):
                raise
            raise OperationInvalid(
                _("The running VM refused the change live: {message} Apply it to the configuration only; it "
                  "takes effect at the next boot.").format(message=error.message), code=error.code,
            ) from None
        return sorted(where)

    def attach_device(self, xml, affect=None):
        """Add a device; affect None, "live", "config" or "both" (see lifecycle.affect). Returns where it went."""
        return self._apply(self._dom.attachDeviceFlags, xml, affect)

    def detach_device(self, xml, affect=None):
        """Remove a device. Live, the guest must cooperate: libvirt returns once the request is sent, and
        the device stays in the running VM until the guest OS releases it (never, without an OS)."""
        return self._apply(self._dom.detachDeviceFlags, xml, affect)

    def update_device(self, xml, affect=None):
        """Change a device in place: CD-ROM media, a NIC's link state, graphics password..."""
        return self._apply(self._dom.updateDeviceFlags, xml, affect)

    def update_each_place(self, locate, change, affect=None):
        """Change one device in the running VM and in its configuration, each from its own XML.

        locate(DomainXML) finds the device (raising NotFound), change(device) edits it. The live side goes
        first, so a live refusal leaves both unchanged. Each side is read with its secrets (a VNC password)
        so that updating one attribute keeps the others; that XML goes only to libvirt. Returns where.
        """
        where, _ = self._affect_flags(affect)
        if lifecycle.LIVE in where:
            running = DomainXML.from_xml(self.xml_desc(secure=True), trusted=True)
            device = locate(running)
            change(device)
            self._apply(self._dom.updateDeviceFlags, device, affect, where={lifecycle.LIVE})
        if lifecycle.CONFIG in where:
            # A redefinition, which every driver has (the test driver has no device update at all).
            self.redefine(lambda saved: change(locate(saved)))
        return sorted(where)

    def redefine(self, edit):
        """Edit the saved configuration (edit(DomainXML)) and define it again, validated by libvirt.

        For what cannot change in a running VM (CPU model, boot order, disk bus): it applies at the next
        boot. Read with its secrets, so a VNC password survives the round trip.
        """
        if not self.is_persistent():
            raise OperationInvalid(_("The VM is transient (it has no configuration to change)."))
        saved = DomainXML.from_xml(self.xml_desc(inactive=True, secure=True), trusted=True)
        edit(saved)
        self._dom.connect().defineXMLFlags(saved.to_xml(), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        return [lifecycle.CONFIG]

    def current_definition(self):
        """The definition changes are checked against: the running one, else the saved one."""
        return DomainXML.from_xml(self.xml_desc(inactive=not self.is_active()), trusted=True)

    def definition_for(self, affect):
        """The definition a change going where `affect` says must find its device in: the running one when
        it goes live, else the saved one (a device may wait there for the next boot)."""
        where, _ = self._affect_flags(affect)
        return DomainXML.from_xml(self.xml_desc(inactive=lifecycle.LIVE not in where), trusted=True)

    def _still_running(self, where, present):
        """`where` without "live" if present(running DomainXML) says the device is still in the running VM."""
        if lifecycle.LIVE in where and present(DomainXML.from_xml(self.xml_desc(), trusted=True)):
            return [place for place in where if place != lifecycle.LIVE]
        return where

    def host_limits(self):
        """{"cpus": logical CPUs online, "memory_kib"} of the host the VM is on (one RPC)."""
        _model, memory_mib, cpus, *_rest = self._dom.connect().getInfo()
        return {"cpus": cpus, "memory_kib": memory_mib * 1024}

    # vCPUs and memory

    def vcpus(self):
        """{"live": {"current", "maximum"} or None, "config": {...} or None}."""
        def read(place):
            flags = _AFFECT_FLAGS[place]
            return {"current": self._dom.vcpusFlags(flags),
                    "maximum": self._dom.vcpusFlags(flags | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)}
        return {"live": read(lifecycle.LIVE) if self.is_active() else None,
                "config": read(lifecycle.CONFIG) if self.is_persistent() else None}

    def set_vcpus(self, count, affect=None):
        """Online vCPUs (live hot-plug needs the guest's support, up to the maximum)."""
        _, flags = self._affect_flags(affect)
        self._dom.setVcpusFlags(_positive(count, gettext_noop("vCPU count")), flags)

    def set_max_vcpus(self, count):
        """The maximum vCPUs, in the configuration (a running VM keeps its maximum until the next boot)."""
        _, flags = self._affect_flags(lifecycle.CONFIG)
        self._dom.setVcpusFlags(_positive(count, gettext_noop("vCPU count")), flags | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)

    def memory(self):
        """{"live": {"current_kib", "maximum_kib"} or None, "config": {...}} (config None for a transient VM)."""
        live = None
        if self.is_active():
            _state, maximum, current, _vcpus, _cpu = self._dom.info()
            live = {"current_kib": current, "maximum_kib": maximum}
        config = None
        if self.is_persistent():
            saved = DomainXML.from_xml(self.xml_desc(inactive=True), trusted=True)
            config = {"current_kib": saved.current_memory_kib or saved.memory_kib, "maximum_kib": saved.memory_kib}
        return {"live": live, "config": config}

    def set_memory(self, kib, affect=None):
        """Current memory; live it is the balloon (the guest needs a balloon driver), up to the maximum."""
        where, _ = self._affect_flags(affect)
        kib = _positive(kib, gettext_noop("memory"))
        # One call per place, live first (a refused balloon changes nothing): some drivers (libvirt's test
        # driver) take only one of LIVE and CONFIG at a time.
        for place in sorted(where, reverse=True):
            self._dom.setMemoryFlags(kib, _AFFECT_FLAGS[place])

    def set_max_memory(self, kib):
        """The maximum memory, in the configuration only (libvirt refuses it live)."""
        _, flags = self._affect_flags(lifecycle.CONFIG)
        self._dom.setMemoryFlags(_positive(kib, gettext_noop("memory")), flags | libvirt.VIR_DOMAIN_MEM_MAXIMUM)

    # Disks

    def resize_disk(self, target, size_bytes):
        """Grow the disk at `target` (vda) to size_bytes; returns its new capacity.

        A running VM's disk grows live (blockResize: QEMU resizes the image and tells the guest); a shut-off
        VM's through its storage volume (so the image must be a volume of one of the host's pools).
        Shrinking is refused (the guest's data past the new end would be cut off).
        """
        size_bytes = _positive(size_bytes, gettext_noop("disk size"))
        if not self.is_active():
            return self._resize_volume_of(target, size_bytes)
        capacity = self._dom.blockInfo(target, 0)[0]
        if size_bytes < capacity:
            raise InvalidConfig(_("Shrinking {target} from {capacity} to {size_bytes} bytes would lose data.")
                                .format(target=target, capacity=capacity, size_bytes=size_bytes))
        self._dom.blockResize(target, size_bytes, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
        return self._dom.blockInfo(target, 0)[0]

    def _resize_volume_of(self, target, size_bytes):
        saved = DomainXML.from_xml(self.xml_desc(inactive=True), trusted=True)
        disk = next((d for d in saved.disks if d.target_dev == target), None)
        if disk is None:
            raise NotFound(_("The VM has no disk {target}.").format(target=target))
        conn = self._dom.connect()
        if disk.source_pool and disk.source_volume:
            pool_name, name = disk.source_pool, disk.source_volume
        elif disk.source_file or disk.source_dev:
            try:
                volume = conn.storageVolLookupByPath(disk.source_file or disk.source_dev)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                    raise
                raise OperationInvalid(_("{target} is not a volume of any storage pool of this host: start the "
                                         "VM to resize it live, or add a pool over its directory.")
                                       .format(target=target)) from None
            pool_name, name = volume.storagePoolLookupByVolume().name(), volume.name()
        else:
            raise OperationInvalid(_("{target} has no image to resize.").format(target=target))
        return resize_volume(conn, pool_name, name, size_bytes).capacity


def _positive(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfig(_("The {what} must be a positive whole number, got {value!r}.")
                            .format(what=_(what), value=value))
    return value
