"""A VM's hardware: read it, and change disks, CD-ROM media, NICs, VNC, vCPUs, memory, CPU mode and boot order.

The hardware page and /api/instances/{id}/disks|nics|config/ call these. Each
change is one bounded call to the VM's host (virt/hardware.py checks it before
changing anything), then the VM's row is refreshed. Each answer says, per
field, whether the change is already live or applies at the next boot.

The VNC password is write-only: reads say whether one is set, never what it is.
"""
from dataclasses import dataclass

from django.conf import settings

from virt.errors import InvalidValue
from virt.hardware import check_boot
from virt.lifecycle import LIVE
from virt.xml.cpu import CpuXML
from virt.xml.diff import next_boot_changes
from virt.xml.domain import DomainXML

from .services import on_domain, refreshed

MIB_IN_KIB = 1024
BYTES_IN_MIB = 1024 * 1024


@dataclass
class Change:
    """One field changed: `live` True if the running VM has it now, False if it waits for the next boot."""

    field: str
    live: bool

    def as_dict(self):
        return {"field": self.field, "live": self.live}


def _changes(fields, applied):
    """A Change per field from where the change went (["config", "live"]: live; ["config"]: the next boot)."""
    return [Change(field, LIVE in applied) for field in fields]


def _renamed(exc, names):
    """InvalidValue with its field renamed to the API's name (virt counts memory in KiB, the API in MiB)."""
    if isinstance(exc, InvalidValue) and exc.field in names:
        return InvalidValue(names[exc.field], exc.message.replace(exc.field, names[exc.field], 1), code=exc.code)
    return exc


def detach_timeout():
    """A live detach waits for the guest to release the device (libvirt's QEMU driver: up to 5 s) on top of the
    usual call: a guest that ignores the request must not make the host look dead."""
    return settings.VIRT_CALL_TIMEOUT + 10


def _run(instance, fn, names=None, timeout=None):
    """fn(Domain) on the VM's host; afterwards the VM's row is refreshed from the host."""
    try:
        result = on_domain(instance, fn, timeout=timeout)
    except InvalidValue as exc:
        raise _renamed(exc, names or {}) from None
    refreshed(instance)
    return result


# Reading


def disk_rows(domain):
    return [{"target": d.target_dev, "device": d.device, "bus": d.target_bus, "format": d.format,
             "cache": d.cache or "default", "source": d.source, "readonly": d.readonly} for d in domain.disks]


def nic_rows(domain):
    return [{"mac": n.mac, "type": n.type, "source": n.source, "model": n.model,
             "link_up": n.link_state != "down"} for n in domain.interfaces]


def hardware(instance):
    """Everything the hardware page shows, from the host in one call (live XML when running, else saved)."""
    def read(dom):
        active = dom.is_active()
        current = dom.xml_desc(inactive=not active)
        saved = dom.xml_desc(inactive=True) if dom.is_persistent() else current
        # Whether the next boot's display has a password (the live one may wait for it); never its value.
        secure = dom.xml_desc(inactive=dom.is_persistent(), secure=True)
        return {"active": active, "current": current, "saved": saved, "vcpus": dom.vcpus(),
                "memory": dom.memory(), "limits": dom.host_limits(), "choices": dom.host_choices(),
                "password_set": any(g.passwd for g in DomainXML.from_xml(secure, trusted=True).graphics
                                    if g.type == "vnc")}

    raw = on_domain(instance, read)
    current = DomainXML.from_xml(raw["current"], trusted=True)
    saved = DomainXML.from_xml(raw["saved"], trusted=True)
    cpu = saved.element.find("cpu")
    vnc = next((g for g in saved.graphics if g.type == "vnc"), None)
    running_vnc = next((g for g in current.graphics if g.type == "vnc"), None)
    memory = raw["memory"]["config"] or raw["memory"]["live"]
    vcpus = raw["vcpus"]["config"] or raw["vcpus"]["live"]
    return {
        "active": raw["active"],
        "disks": disk_rows(current),
        "nics": nic_rows(current),
        "vcpus": vcpus["current"], "max_vcpus": vcpus["maximum"],
        "memory_mib": memory["current_kib"] // MIB_IN_KIB, "max_memory_mib": memory["maximum_kib"] // MIB_IN_KIB,
        "live": {"vcpus": raw["vcpus"]["live"], "memory": raw["memory"]["live"]},
        "cpu_mode": CpuXML(cpu).mode if cpu is not None else None,
        "cpu_model": CpuXML(cpu).model if cpu is not None else None,
        "boot": saved.boot_devices,
        "vnc": None if vnc is None else {
            "listen": vnc.listen, "port": running_vnc.port if running_vnc and (running_vnc.port or 0) > 0 else None,
            "password_set": raw["password_set"]},
        "host": {"cpus": raw["limits"]["cpus"], "memory_mib": raw["limits"]["memory_kib"] // MIB_IN_KIB,
                 **raw["choices"]},
        # What the running VM does not have yet (a transient VM's "saved" is its running definition: nothing).
        "next_boot": next_boot_changes(raw["current"], raw["saved"]) if raw["active"] else [],
    }


def disks(instance):
    return disk_rows(DomainXML.from_xml(on_domain(instance, lambda dom: dom.xml_desc(
        inactive=not dom.is_active())), trusted=True))


def nics(instance):
    return nic_rows(DomainXML.from_xml(on_domain(instance, lambda dom: dom.xml_desc(
        inactive=not dom.is_active())), trusted=True))


# Disks


def attach_disk(instance, *, pool=None, name=None, size_mib=None, format="qcow2", allocation="thin", volume=None,
                path=None, device="disk", target=None, bus=None, cache="default", affect=None):
    """Attach a new volume (pool, name, size_mib, format), an existing one (pool, volume) or the volume at `path`.

    affect: None (live and config as the state allows), "live", "config" or "both" (virt.lifecycle.affect).
    Returns {"target", "changes"}. A new volume is removed again if the attach fails.
    """
    placement = {"target": target, "bus": bus, "cache": cache, "affect": affect}
    if size_mib is not None:
        placement["bus"] = bus or "virtio"
        result = _run(instance, lambda dom: dom.attach_new_volume(
            pool, name, size_mib * BYTES_IN_MIB, volume_format=format, allocation=allocation, **placement))
    elif path is not None:
        result = _run(instance, lambda dom: dom.attach_path(path, device=device, **placement))
    else:
        result = _run(instance, lambda dom: dom.attach_volume(pool, volume, device=device, **placement))
    return {"target": result["target"], "changes": _changes(["disk"], result["applied"])}


def detach_disk(instance, target, affect=None):
    applied = _run(instance, lambda dom: dom.detach_disk(target, affect), timeout=detach_timeout())
    return {"changes": _changes(["disk"], applied)}


def resize_disk(instance, target, size_mib):
    """Grow a disk (live when running, else through its volume); returns {"capacity_bytes", "changes"}."""
    def resize(dom):
        return dom.is_active(), dom.resize_disk(target, size_mib * BYTES_IN_MIB)

    live, capacity = _run(instance, resize)
    return {"capacity_bytes": capacity, "changes": [Change("size", live)]}


def update_disk(instance, target, *, bus=None, cache=None):
    fields = [field for field, value in (("bus", bus), ("cache", cache)) if value is not None]
    applied = _run(instance, lambda dom: dom.update_disk(target, bus=bus, cache=cache))
    return {"changes": _changes(fields, applied)}


def change_media(instance, target, *, pool=None, volume=None, path=None):
    """Insert a volume into a CD-ROM drive; with none of pool, volume and path: eject."""
    applied = _run(instance, lambda dom: dom.change_media(target, pool=pool, volume=volume, path=path))
    return {"changes": _changes(["media"], applied)}


# Network interfaces


def add_nic(instance, *, type, source, model="virtio", mac=None, link_up=True, affect=None):
    result = _run(instance, lambda dom: dom.add_interface(type, source, model=model, mac=mac, link_up=link_up,
                                                          affect=affect))
    return {"mac": result["mac"], "changes": _changes(["nic"], result["applied"])}


def remove_nic(instance, mac, affect=None):
    applied = _run(instance, lambda dom: dom.remove_interface(mac, affect), timeout=detach_timeout())
    return {"changes": _changes(["nic"], applied)}


def update_nic(instance, mac, *, link_up=None, type=None, source=None, model=None):
    result = _run(instance, lambda dom: dom.update_interface(mac, link_up=link_up, type=type, source=source,
                                                             model=model))
    now = [field for field, value in (("link_up", link_up), ("source", source)) if value is not None]
    return {"changes": _changes(now, result["now"]) + ([Change("model", False)] if model is not None else [])}


# vCPUs, memory, CPU mode, boot order, VNC

CONFIG_FIELDS = ("vcpus", "max_vcpus", "memory_mib", "max_memory_mib", "cpu_mode", "cpu_model", "boot",
                 "vnc_listen", "vnc_password", "vnc_password_clear")
_KIB_NAMES = {"memory_kib": "memory_mib", "max_memory_kib": "max_memory_mib"}


def _given(values):
    unknown = set(values) - set(CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"Unknown configuration fields: {sorted(unknown)}")
    return {field: value for field, value in values.items() if value is not None and value is not False}


def _with_grown_maximums(dom, given):
    """`given` with max_vcpus / max_memory_mib added where vcpus / memory_mib is over the VM's configured
    maximum and no maximum was given: asking for N vCPUs means the VM gets N (at its next boot when it runs
    and N is over its running maximum), as virt-manager does. A maximum given explicitly is kept, and a count
    over it refused. Maximums never shrink by themselves."""
    grown = dict(given)
    if "vcpus" in given and "max_vcpus" not in given:
        config = dom.vcpus()["config"]
        if config is not None and given["vcpus"] > config["maximum"]:
            grown["max_vcpus"] = given["vcpus"]
    if "memory_mib" in given and "max_memory_mib" not in given:
        config = dom.memory()["config"]
        if config is not None and _kib(given["memory_mib"]) > config["maximum_kib"]:
            grown["max_memory_mib"] = given["memory_mib"]
    return grown


def _check(dom, given):
    """Refuse any value the VM or its host cannot take (InvalidValue naming the field) before a change."""
    dom.check_counts(vcpus=given.get("vcpus"), max_vcpus=given.get("max_vcpus"),
                     memory_kib=_kib(given.get("memory_mib")), max_memory_kib=_kib(given.get("max_memory_mib")))
    if "cpu_mode" in given or "cpu_model" in given:
        dom.check_cpu_mode(given.get("cpu_mode"), given.get("cpu_model"))
    if "boot" in given:
        check_boot(given["boot"])
    if {"vnc_listen", "vnc_password", "vnc_password_clear"} & set(given):
        dom.check_vnc(given.get("vnc_listen"), given.get("vnc_password"))


def check_config(dom, **values):
    """What update_config checks, without changing anything (for callers that make other changes first)."""
    try:
        _check(dom, _with_grown_maximums(dom, _given(values)))
    except InvalidValue as exc:
        raise _renamed(exc, _KIB_NAMES) from None


def update_config(instance, **values):
    """Change any of CONFIG_FIELDS in one call; returns {"changes"}.

    vcpus or memory_mib over the VM's maximum raises that maximum with it (see _with_grown_maximums); the
    answer then lists max_vcpus / max_memory_mib too. Every value is checked (against the host too: its CPUs
    and memory, its CPU models, the VM's VNC display) before the first change, so a refused value changes
    nothing. PATCH /api/instances/{id}/ and /config/ both come here.
    """
    requested = _given(values)

    def apply(dom):
        given = _with_grown_maximums(dom, requested)
        kib = {"memory_kib": _kib(given.get("memory_mib")), "max_memory_kib": _kib(given.get("max_memory_mib"))}
        _check(dom, given)
        changes = []
        if "vcpus" in given or "max_vcpus" in given:
            applied = dom.change_vcpus(vcpus=given.get("vcpus"), max_vcpus=given.get("max_vcpus"))
            changes += [Change(field, LIVE in places) for field, places in applied.items()]
        if any(value is not None for value in kib.values()):
            applied = dom.change_memory(**kib)
            changes += [Change(_KIB_NAMES[field], LIVE in places) for field, places in applied.items()]
        if "cpu_mode" in given:
            changes += _changes(["cpu_mode"], dom.set_cpu_mode(given["cpu_mode"], given.get("cpu_model")))
        if "boot" in given:
            changes += _changes(["boot"], dom.set_boot_order(given["boot"]))
        vnc = {"vnc_listen": given.get("vnc_listen"), "vnc_password": given.get("vnc_password"),
               "clear_password": bool(given.get("vnc_password_clear"))}
        if any(vnc.values()):
            applied = dom.set_vnc(**vnc)
            changes += [Change(field, field != "vnc_listen" and LIVE in applied["now"])
                        for field in ("vnc_password", "vnc_password_clear", "vnc_listen") if field in given]
        return changes

    return {"changes": _run(instance, apply, names=_KIB_NAMES)}


def _kib(mib):
    return None if mib is None else mib * MIB_IN_KIB
