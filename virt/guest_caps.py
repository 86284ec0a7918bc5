"""What a host can run, for the creation wizard: domain type, arch, machines, firmware, limits.

`guest_caps(conn)` reads the capabilities XML, the domain capabilities of the chosen
type (where the driver has them) and getInfo(): 3 RPCs. `parse_guest_caps` is the
pure part, so the wizard's choices are tested on fixed XML.

Domain type: `kvm` when the host offers it with hardware virtualization (vmx/svm);
`kvm` without vmx/svm (nested or paravirtualized /dev/kvm, as on the machines this
project is tested on) runs guest code far slower than TCG, so `qemu` (TCG) is chosen
then; `qemu` when only TCG is offered; the test driver offers `test` only.
"""
from dataclasses import dataclass

import libvirt

from .xml.parser import parse_trusted

PREFERRED_ARCH = "x86_64"

# Why a domain type was chosen; the application shows its own translated sentence for each.
REASONS = ("kvm", "kvm-no-vmx", "tcg", "other")


@dataclass(frozen=True)
class GuestCaps:
    arch: str
    domain_type: str  # kvm, qemu, test...
    reason: str  # a value of REASONS
    domain_types: tuple  # every type the host offers for `arch`
    emulator: str = ""
    machines: tuple = ()  # names and aliases (pc, q35, pc-q35-7.2...)
    default_machine: str = ""
    max_vcpus: int = 1  # the smaller of the host's CPUs and what the hypervisor allows for one guest
    memory_mib: int = 0  # the host's memory
    uefi_loaders: tuple = ()  # OVMF images the host lists
    uefi: bool = False  # firmware auto-selection can pick UEFI (a loader or an efi descriptor exists)

    def machine_for(self, wanted):
        """`wanted` (q35, pc) if the host has it; else its default; None where it lists none (test driver)."""
        if wanted in self.machines:
            return wanted
        return self.default_machine or None


def _pick_arch(caps):
    arches = [arch.get("name") for arch in caps.iterfind("guest/arch")]
    host_arch = caps.findtext("host/cpu/arch")
    for choice in (host_arch, PREFERRED_ARCH):
        if choice in arches:
            return choice
    return arches[0] if arches else (host_arch or PREFERRED_ARCH)


def parse_guest_caps(caps_xml, info, dom_caps_by_type=None):
    """GuestCaps from capabilities XML, getInfo() and {domain type: domain capabilities XML}. Pure."""
    caps = parse_trusted(caps_xml)
    arch = _pick_arch(caps)
    types, emulator, machines, default_machine, machine_max = [], "", [], "", 0
    for guest in caps.iterfind("guest"):
        arch_element = guest.find(f"arch[@name='{arch}']")
        if guest.findtext("os_type") != "hvm" or arch_element is None:
            continue
        emulator = emulator or arch_element.findtext("emulator") or ""
        for machine in arch_element.iterfind("machine"):
            machines.append(machine.text)
            machine_max = max(machine_max, int(machine.get("maxCpus", "0") or 0))
        types += [d.get("type") for d in arch_element.iterfind("domain") if d.get("type") not in types]
    features = {f.get("name") for f in caps.iterfind("host/cpu/feature")}
    if "kvm" in types and features & {"vmx", "svm"}:
        domain_type, reason = "kvm", "kvm"
    elif "qemu" in types:
        domain_type, reason = "qemu", "kvm-no-vmx" if "kvm" in types else "tcg"
    else:
        domain_type, reason = (types[0] if types else "qemu"), "other"
    dom_caps_xml = (dom_caps_by_type or {}).get(domain_type)
    loaders, uefi, hv_max = (), False, 0
    if dom_caps_xml:
        dom_caps = parse_trusted(dom_caps_xml)
        loaders = tuple(v.text for v in dom_caps.iterfind("os/loader/value") if v.text)
        firmware = {v.text for v in dom_caps.iterfind("os/enum[@name='firmware']/value")}
        uefi = bool(loaders) or "efi" in firmware
        hv_max = int(dom_caps.find("vcpu").get("max", "0")) if dom_caps.find("vcpu") is not None else 0
        emulator = dom_caps.findtext("path") or emulator
        default_machine = dom_caps.findtext("machine") or ""
    if not default_machine and machines:
        default_machine = "pc" if "pc" in machines else machines[0]
    host_cpus, memory_mib = int(info[2]), int(info[1])
    limits = [n for n in (host_cpus, hv_max, machine_max) if n]
    return GuestCaps(
        arch=arch, domain_type=domain_type, reason=reason, domain_types=tuple(types), emulator=emulator,
        machines=tuple(m for m in machines if m), default_machine=default_machine or "",
        max_vcpus=min(limits) if limits else 1, memory_mib=memory_mib, uefi_loaders=loaders, uefi=uefi,
    )


def guest_caps(conn):
    """GuestCaps of the host (3 RPCs: capabilities, domain capabilities, getInfo)."""
    caps_xml = conn.getCapabilities()
    info = conn.getInfo()
    chosen = parse_guest_caps(caps_xml, info)
    try:
        dom_caps = conn.getDomainCapabilities(None, chosen.arch, None, chosen.domain_type, 0)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED):
            raise
        return chosen  # the test driver has no domain capabilities
    return parse_guest_caps(caps_xml, info, {chosen.domain_type: dom_caps})
