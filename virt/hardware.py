"""The common hardware changes of a domain: disks, CD-ROM media, NICs, VNC, vCPUs, memory, CPU mode, boot order.

Mixed into virt.domain.Domain on top of ConfigChanges; disks and CD-ROM media
come from virt/disk_changes.py. Every method checks its arguments before the
first RPC that changes anything and raises InvalidValue naming the argument at
fault. What a running VM can take live goes live and into
its configuration; what it cannot (CPU mode, boot order, disk bus and cache, a
NIC's model, the VNC listen address, a maximum) goes into the configuration and
applies at the next boot. Methods return where each change went.

Facts this relies on (QEMU driver): disks and NICs hot-plug only into a guest
with ACPI; graphics cannot be attached live but a VNC password can change live;
a NIC's link state and source can change live, its model cannot.
"""
import ipaddress
import re
import secrets

import libvirt

from . import lifecycle
from .disk_changes import DiskChanges, choice
from .domain_config import _positive
from .errors import HostUnreachable, InvalidConfig, InvalidValue, NotFound, OperationInvalid, translate
from .xml.cpu import CPU_MODES, CpuXML
from .xml.devices import InterfaceXML
from .xml.parser import parse_trusted
from .i18n import _

NIC_MODELS = ("virtio", "e1000", "e1000e", "rtl8139")
NIC_TYPES = ("network", "bridge", "direct")
BOOT_DEVICES = ("hd", "cdrom", "network", "fd")
AFFECT_CHOICES = (lifecycle.LIVE, lifecycle.CONFIG, "both")  # virt.lifecycle.affect's `wanted`
# A Linux interface name: at most 15 bytes, no '/' or whitespace.
_HOST_INTERFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
_CPU_MODEL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_listen(address):
    """A VNC listen address: an IP address (127.0.0.1 for the console proxy only, 0.0.0.0 for any)."""
    try:
        ip = ipaddress.ip_address(address)
    except (ValueError, TypeError):
        ip = None
    if ip is None or getattr(ip, "scope_id", None):  # fe80::1%eth0: a scope is free text to Python
        raise InvalidValue("vnc_listen", _("vnc_listen: {address!r} is not an IP address.")
                                         .format(address=str(address)[:60]))
    return str(ip)


def random_mac(taken=()):
    """A locally administered address in QEMU's 52:54:00 range, as libvirt picks them, not in `taken`."""
    while True:
        mac = "52:54:00:" + ":".join(f"{secrets.randbelow(256):02x}" for _ in range(3))
        if mac not in taken:
            return mac


def _interface(domain, mac):
    nic = next((n for n in domain.interfaces if n.mac == mac), None)
    if nic is None:
        raise NotFound(_("The VM has no network interface {mac!r}.").format(mac=mac))
    return nic


def _vnc(domain):
    graphics = next((g for g in domain.graphics if g.type == "vnc"), None)
    if graphics is None:
        raise NotFound(_("The VM has no VNC display (graphics cannot be added to a running VM; add it in its "
                         "XML)."))
    return graphics


class HardwareChanges(DiskChanges):
    """Needs what ConfigChanges needs; every method is one pool call's worth of RPCs."""

    def host_choices(self):
        """What the forms can offer from the VM's host: {"networks": [...], "pools": [...]} (active ones, sorted)."""
        conn = self._dom.connect()
        networks = conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
        pools = conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        return {"networks": sorted(n.name() for n in networks), "pools": sorted(p.name() for p in pools)}

    # Network interfaces

    def add_interface(self, type, source, *, model="virtio", mac=None, link_up=True, affect=None):
        """Add a NIC on a virtual network, a host bridge or a host NIC (direct); returns its MAC and where."""
        choice(type, NIC_TYPES, "type")
        choice(model, NIC_MODELS, "model")
        self._check_source(type, source)
        taken = {n.mac for n in self.current_definition().interfaces}
        if mac in (None, ""):
            mac = random_mac(taken)
        try:
            nic = InterfaceXML.build(type, source, model=model, mac=mac, link_up=link_up)
        except InvalidConfig as exc:
            raise InvalidValue("mac", _("mac: {message}").format(message=exc.message)) from None
        if nic.mac in taken:
            raise InvalidValue("mac", _("mac: the VM already has a network interface {mac}.")
                                      .format(mac=nic.mac))
        return {"mac": nic.mac, "applied": self.attach_device(nic, affect)}

    def remove_interface(self, mac, affect=None):
        """Remove the NIC; like detach_disk, "live" only once the running guest has released it."""
        where = self.detach_device(_interface(self.definition_for(affect), mac), affect)
        return self._still_running(where, lambda domain: any(n.mac == mac for n in domain.interfaces))

    def update_interface(self, mac, *, link_up=None, type=None, source=None, model=None):
        """Pull or plug the cable and move the NIC to another source (live and config); a new model goes to
        the configuration only (QEMU cannot change a NIC's model live). Returns {"live_or_now", "next_boot"}."""
        if model is not None:
            choice(model, NIC_MODELS, "model")
        if (type is None) != (source is None):
            raise InvalidValue("source" if source is None else "type", _("type and source are changed together."))
        if type is not None:
            choice(type, NIC_TYPES, "type")
            self._check_source(type, source)
        _interface(self.current_definition(), mac)
        result = {"now": [], "next_boot": []}
        if link_up is not None or type is not None:
            def change(nic):
                if link_up is not None:
                    nic.link_state = "up" if link_up else "down"
                if type is not None:
                    for attribute in ("source_network", "source_bridge", "source_dev", "source_mode"):
                        setattr(nic, attribute, None)
                    for element in nic.element.findall("source"):
                        nic.element.remove(element)
                    nic.type = type
                    setattr(nic, InterfaceXML.SOURCE_ATTRIBUTES[type], source)
                    if type == "direct":
                        nic.source_mode = "bridge"
            result["now"] = self.update_each_place(lambda d: _interface(d, mac), change)
        if model is not None:
            def set_model(domain):
                _interface(domain, mac).model = model
            result["next_boot"] = self.redefine(set_model)
        return result

    def _check_source(self, type, source):
        if type == "network":
            if not isinstance(source, str) or not source:
                raise InvalidValue("source", _("source: a network name is required."))
            try:
                self._dom.connect().networkLookupByName(source)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_NETWORK:
                    raise
                raise InvalidValue("source", _("source: the host has no network {source!r}.")
                                             .format(source=source)) from None
        elif not isinstance(source, str) or not _HOST_INTERFACE.match(source) or source in (".", ".."):
            raise InvalidValue("source", _("source: {source!r} is not a host interface name.")
                                         .format(source=str(source)[:40]))

    # VNC

    def set_vnc(self, *, vnc_listen=None, vnc_password=None, clear_password=False):
        """The VNC password (live and config) and listen address (config: the next boot).

        The password is a secret: it goes to libvirt only, is never returned and never logged.
        """
        vnc_listen = self.check_vnc(vnc_listen, vnc_password)
        result = {"now": [], "next_boot": []}
        if vnc_password is not None or clear_password:
            def change(graphics):
                graphics.passwd = None if clear_password else vnc_password
            # Cleared live, QEMU keeps asking for a password and accepts none (measured on QEMU 7.2): a
            # cleared password waits for the next boot.
            affect = lifecycle.CONFIG if clear_password and self.is_persistent() else None
            try:
                result["now"] = self.update_each_place(_vnc, change, affect=affect)
            except OperationInvalid:
                if not (self.is_active() and self.is_persistent()):
                    raise
                # QEMU changes a password live only on a display started with one ("Could not set
                # password"): the new one then takes effect at the next boot.
                result["now"] = self.update_each_place(_vnc, change, affect=lifecycle.CONFIG)
        if vnc_listen is not None:
            def set_listen(domain):
                _vnc(domain).listen = vnc_listen
            result["next_boot"] = self.redefine(set_listen)
        return result

    def check_vnc(self, vnc_listen=None, vnc_password=None):
        """Refuse a bad listen address or password, or a VM without VNC; returns the listen address normalized."""
        if vnc_listen is not None:
            vnc_listen = check_listen(vnc_listen)
        if vnc_password is not None and (not isinstance(vnc_password, str) or not 1 <= len(vnc_password) <= 8
                                         or not vnc_password.isprintable()):
            # QEMU's VNC authentication uses the first 8 characters only: refuse what it would cut silently.
            raise InvalidValue("vnc_password", _("vnc_password: 1 to 8 printable characters (VNC uses no more)."))
        _vnc(self.current_definition())
        return vnc_listen

    # vCPUs and memory, within the host's limits

    def check_counts(self, *, vcpus=None, max_vcpus=None, memory_kib=None, max_memory_kib=None):
        """Refuse counts the host cannot give (InvalidValue naming the argument) before anything changes.

        Returns the VM's {"vcpus": ..., "memory": ...} as vcpus() and memory() read them.
        """
        limits = self.host_limits()
        for field, value in (("vcpus", vcpus), ("max_vcpus", max_vcpus)):
            if value is not None:
                _check_count(field, value, limits["cpus"], "vCPUs",
                             _("the host has ({cpus} CPUs)").format(cpus=limits["cpus"]))
        for field, value in (("memory_kib", memory_kib), ("max_memory_kib", max_memory_kib)):
            if value is not None:
                _check_count(field, value, limits["memory_kib"], "KiB",
                             _("the host has ({mib} MiB)").format(mib=limits["memory_kib"] // 1024))
        counts, memory = self.vcpus(), self.memory()
        if counts["config"] is None:
            raise OperationInvalid(_("The VM is transient (it has no configuration to change)."))
        top = max_vcpus if max_vcpus is not None else counts["config"]["maximum"]
        if vcpus is not None and vcpus > top:
            raise InvalidValue("vcpus", _("vcpus: {vcpus} is over the maximum of {top} vCPUs.")
                                        .format(vcpus=vcpus, top=top))
        top = max_memory_kib if max_memory_kib is not None else memory["config"]["maximum_kib"]
        if memory_kib is not None and memory_kib > top:
            raise InvalidValue("memory_kib", _("memory: {memory_kib} KiB is over the maximum of {top} KiB.")
                                             .format(memory_kib=memory_kib, top=top))
        return {"vcpus": counts, "memory": memory}

    def change_vcpus(self, *, vcpus=None, max_vcpus=None):
        """Online vCPUs (live too where the running VM's maximum allows) and the maximum (next boot).

        Returns {field: places} for the fields that changed (a value equal to the current one is left alone).
        """
        counts = self.check_counts(vcpus=vcpus, max_vcpus=max_vcpus)["vcpus"]
        config, live = counts["config"], counts["live"]
        result = {}
        if max_vcpus is not None and max_vcpus != config["maximum"]:
            if max_vcpus < config["current"]:
                self.set_vcpus(max_vcpus, affect=lifecycle.CONFIG)
            self.set_max_vcpus(max_vcpus)
            result["max_vcpus"] = [lifecycle.CONFIG]
        if vcpus is not None and (vcpus != config["current"] or live is not None and vcpus != live["current"]):
            result["vcpus"] = self._live_if_possible(
                self.set_vcpus, vcpus, live is not None and vcpus <= live["maximum"])
        return result

    def change_memory(self, *, memory_kib=None, max_memory_kib=None):
        """Current memory (the balloon: live too up to the running maximum) and the maximum (next boot).

        Returns {field: places} for the fields that changed, as change_vcpus does.
        """
        memory = self.check_counts(memory_kib=memory_kib, max_memory_kib=max_memory_kib)["memory"]
        config, live = memory["config"], memory["live"]
        result = {}
        if max_memory_kib is not None and max_memory_kib != config["maximum_kib"]:
            self.set_max_memory(max_memory_kib)  # libvirt lowers the current memory with it where needed
            result["max_memory_kib"] = [lifecycle.CONFIG]
            config = self.memory()["config"]
        # The running balloon is not compared: the guest moves it, so asking again is how to insist.
        if memory_kib is not None and (memory_kib != config["current_kib"] or live is not None):
            result["memory_kib"] = self._live_if_possible(
                self.set_memory, memory_kib, live is not None and memory_kib <= live["maximum_kib"])
        return result

    def _live_if_possible(self, setter, value, live_possible):
        """setter(value) live and in the configuration, or only the configuration when it cannot go live or the
        running VM refuses it (QEMU unplugs only vCPUs that were hot-plugged: "failed to find appropriate
        hotpluggable vcpus"). Returns where it went."""
        if live_possible:
            try:
                setter(value)
                return [lifecycle.CONFIG, lifecycle.LIVE]
            except libvirt.libvirtError as exc:
                if isinstance(translate(exc), (HostUnreachable, NotFound)):
                    raise
        setter(value, affect=lifecycle.CONFIG)
        return [lifecycle.CONFIG]

    # CPU and boot order (the next boot)

    def set_cpu_mode(self, cpu_mode, cpu_model=None):
        """host-passthrough, host-model, or custom with a `cpu_model` the host knows."""
        self.check_cpu_mode(cpu_mode, cpu_model)
        return self.redefine(lambda domain: CpuXML.of(domain).set_mode(cpu_mode, cpu_model))

    def check_cpu_mode(self, cpu_mode, cpu_model=None):
        choice(cpu_mode, CPU_MODES, "cpu_mode")
        if cpu_mode != "custom":
            if cpu_model:
                raise InvalidValue("cpu_model", _("cpu_model: only custom mode takes a model, not {cpu_mode}.")
                                                .format(cpu_mode=cpu_mode))
            self._check_cpu_mode_supported(cpu_mode)
            return
        if not isinstance(cpu_model, str) or not _CPU_MODEL.match(cpu_model):
            raise InvalidValue("cpu_model", _("cpu_model: a CPU model name (such as qemu64) is needed for custom."))
        self._check_cpu_model(cpu_model)

    def _domain_capabilities(self):
        """(the host's domain capabilities for this VM's arch and type, parsed, or None; the VM's XML)."""
        current = self.current_definition()
        try:
            caps = self._dom.connect().getDomainCapabilities(None, current.arch, None, current.type, 0)
        except libvirt.libvirtError:
            return None, current  # a driver without them (libvirt's test driver)
        return parse_trusted(caps), current

    def _check_cpu_mode_supported(self, mode):
        """Refuse a mode the host's domain capabilities rule out for this VM's type (host-passthrough under
        TCG: QEMU's `-cpu host` needs KVM)."""
        caps, current = self._domain_capabilities()
        if caps is not None and caps.xpath("cpu/mode[@name=$mode]/@supported", mode=mode) == ["no"]:
            raise InvalidValue("cpu_mode", _("cpu_mode: this host cannot give a {type} VM the {mode} CPU (its "
                                             "domain capabilities say so; host-passthrough needs KVM).")
                                           .format(type=current.type, mode=mode))

    def _check_cpu_model(self, model):
        """Refuse a model the host does not know, or cannot run for this VM's type (its features are missing:
        the VM would not start)."""
        caps, current = self._domain_capabilities()
        if caps is not None:
            usable = caps.xpath("cpu/mode[@name='custom']/model[text()=$model]/@usable", model=model)
            if usable == ["no"]:
                raise InvalidValue("cpu_model", _("cpu_model: this host cannot run a {type} VM on a {model} CPU "
                                                  "(it lacks some of its features).")
                                                .format(type=current.type, model=model))
            if usable:
                return
        arch = current.arch or "x86_64"
        try:
            known = self._dom.connect().getCPUModelNames(arch, 0)
        except libvirt.libvirtError:
            return  # the driver cannot list models: libvirt judges at the next start
        if known and model not in known:
            raise InvalidValue("cpu_model", _("cpu_model: the host knows no {arch} CPU model {model!r}.")
                                            .format(arch=arch, model=model))

    def set_boot_order(self, devices):
        """Boot from `devices` in order (hd, cdrom, network, fd). Per-device boot orders are dropped: libvirt
        refuses both kinds in one definition."""
        check_boot(devices)

        def edit(domain):
            for boot in domain.element.xpath("devices/*/boot"):
                boot.getparent().remove(boot)
            domain.boot_devices = list(devices)

        return self.redefine(edit)


def check_boot(devices):
    if not isinstance(devices, (list, tuple)) or not devices:
        raise InvalidValue("boot", _("boot: at least one device is needed."))
    for dev in devices:
        choice(dev, BOOT_DEVICES, "boot")
    if len(set(devices)) != len(devices):
        raise InvalidValue("boot", _("boot: each device may appear once."))
    return devices


def _check_count(field, value, limit, unit, why):
    try:
        _positive(value, field)
    except InvalidConfig as exc:
        raise InvalidValue(field, _("{field}: {message}").format(field=field, message=exc.message)) from None
    if value > limit:
        raise InvalidValue(field, _("{field}: {value} {unit} is more than {why}.")
                                  .format(field=field, value=value, unit=unit, why=why))
