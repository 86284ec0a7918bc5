"""The creation wizard's answers -> domain XML (virt-manager's wizard -> virtinst builder idea).

Pure: no libvirt call, no database. Three steps, each testable alone:

- `clean_answers(data)`: types, choices and names of the raw answers (a form's or the API's), every
  problem named by its field (AnswerErrors, a 400);
- `apply_host(answers, caps, guest_os)`: the host's limits enforced (vCPUs, memory, UEFI) and what the
  user left blank filled from the OS's recommendations (osinfo-db);
- `build_domain(answers, caps, guest_os)`: the DomainXML, through the virt/xml mapping.

What is only known live (does the name exist, is the pool there) is checked by instances/creation.py.
"""
from dataclasses import asdict, dataclass, fields, replace

from django.utils.translation import gettext as _
from lxml import etree

from virt.disk_changes import next_target
from virt.errors import InvalidConfig
from virt.names import NAME_PROBLEMS, name_problem
from virt.xml.base import Path
from virt.xml.devices import DiskXML, GraphicsXML, InterfaceXML
from virt.xml.domain import DomainXML

INSTALL_METHODS = ("iso", "import", "pxe", "none")
FIRMWARES = ("bios", "uefi")
DISK_FORMATS = ("qcow2", "raw")
DISK_ALLOCATIONS = ("thin", "thick")
MAX_DISK_GIB = 64 * 1024  # a bound on typing mistakes; bigger disks are made on the storage pages
MIN_MEMORY_MIB = 16
# The wizard's own record in the domain's metadata: which osinfo OS it was built for.
WIZARD_NS = "https://virtdeck.invalid/xmlns/wizard/1"
GiB, MiB = 1024 ** 3, 1024 ** 2


@dataclass
class Answers:
    """What the wizard asks. None or "": not answered (the OS's recommendation, or nothing)."""

    name: str = ""
    install: str = "none"
    iso_volume: str = ""  # "pool/volume"
    import_volume: str = ""  # "pool/volume": an existing volume as the disk
    os_variant: str = "generic"  # an osinfo short id
    firmware: str = "bios"
    vcpus: int | None = None
    memory_mib: int | None = None
    disk_pool: str = ""  # a new volume in this pool
    disk_size_gib: int | None = None
    disk_format: str = "qcow2"
    disk_allocation: str = "thin"
    network: str = ""  # a virtual network of the host
    bridge: str = ""  # or a host bridge
    start: bool = True

    def as_dict(self):
        return asdict(self)

    @property
    def new_volume_name(self):
        """The new disk's name in its pool: <vm>.qcow2 or <vm>.img."""
        return f"{self.name}.{'qcow2' if self.disk_format == 'qcow2' else 'img'}" if self.disk_pool else ""


ANSWER_FIELDS = tuple(f.name for f in fields(Answers))
# What a template keeps: everything but the VM's own name.
TEMPLATE_FIELDS = tuple(name for name in ANSWER_FIELDS if name != "name")


class AnswerErrors(InvalidConfig):
    """One or more answers refused: `errors` maps each field to its message (the API's 400 body)."""

    def __init__(self, errors):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def split_volume(ref):
    """("pool", "volume") from "pool/volume"; ValueError with a message if it is not that."""
    pool, sep, volume = ref.partition("/")
    if not sep or not pool or not volume:
        raise ValueError(_("Expected pool/volume, e.g. iso/debian-12.iso."))
    for part in (pool, volume):
        problem = name_problem(part)
        if problem:
            raise ValueError(_(NAME_PROBLEMS[problem]))
    return pool, volume


def _integer(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    number = int(value)
    if isinstance(value, float) and number != value:
        raise ValueError
    return number


def parse_flag(value):
    """A yes/no answer from JSON (true/false) or a form ("on", "true", "1"...); ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes", "false", "off", "0", "no", ""):
        return value.lower() in ("true", "on", "1", "yes")
    raise ValueError


def clean_answers(data, *, allowed=ANSWER_FIELDS):
    """Answers from raw data (strings from a form, JSON values from the API); AnswerErrors names every bad field.

    Unknown keys (outside `allowed`) are refused too, so a typo never silently falls back to a default.
    A template's answers are cleaned with allowed=TEMPLATE_FIELDS: everything but the name.
    """
    name_required = "name" in allowed
    errors = {}
    unknown = sorted(set(data) - set(allowed), key=str)
    for key in unknown:
        errors[str(key)[:64]] = _("Unknown field.")
    values = {}
    for spec in fields(Answers):
        if spec.name not in data or data[spec.name] is None:
            continue
        raw = data[spec.name]
        try:
            if spec.name in ("vcpus", "memory_mib", "disk_size_gib"):
                values[spec.name] = _integer(raw)
            elif spec.name == "start":
                values[spec.name] = parse_flag(raw)
            elif not isinstance(raw, str):
                raise ValueError
            else:
                values[spec.name] = raw.strip()
        except (TypeError, ValueError, OverflowError):
            errors[spec.name] = _("Expected a whole number.") if spec.name in ("vcpus", "memory_mib", "disk_size_gib") \
                else _("Expected true or false.") if spec.name == "start" else _("Expected text.")
    answers = Answers(**values)
    _check_choices(answers, errors, name_required)
    if errors:
        raise AnswerErrors(errors)
    return answers


def _check_choices(answers, errors, name_required):
    if "name" not in errors and (answers.name or name_required):
        problem = name_problem(answers.name)
        if problem:
            errors["name"] = _(NAME_PROBLEMS[problem])
    for name, choices in (("install", INSTALL_METHODS), ("firmware", FIRMWARES), ("disk_format", DISK_FORMATS),
                          ("disk_allocation", DISK_ALLOCATIONS)):
        if name not in errors and getattr(answers, name) not in choices:
            errors[name] = _("Expected one of: %(choices)s.") % {"choices": ", ".join(choices)}
    for name in ("iso_volume", "import_volume"):
        if name not in errors and getattr(answers, name):
            try:
                split_volume(getattr(answers, name))
            except ValueError as exc:
                errors[name] = str(exc)
    for name in ("disk_pool", "network", "bridge"):
        value = getattr(answers, name)
        if name not in errors and value and name_problem(value):
            errors[name] = _(NAME_PROBLEMS[name_problem(value)])
    for name, low, high in (("vcpus", 1, None), ("memory_mib", MIN_MEMORY_MIB, None),
                            ("disk_size_gib", 1, MAX_DISK_GIB)):
        value = getattr(answers, name)
        if name in errors or value is None:
            continue
        if value < low:
            errors[name] = _("Must be at least %(low)s.") % {"low": low}
        elif high is not None and value > high:
            errors[name] = _("Must be at most %(high)s.") % {"high": high}
    if answers.install == "iso" and not answers.iso_volume and "iso_volume" not in errors:
        errors["iso_volume"] = _("An ISO install needs the ISO volume (pool/volume).")
    if answers.install == "import" and not answers.import_volume and "import_volume" not in errors:
        errors["import_volume"] = _("An import needs the existing disk volume (pool/volume).")
    if answers.disk_pool and answers.import_volume and "disk_pool" not in errors:
        errors["disk_pool"] = _("Choose a new volume or an existing one, not both.")
    if answers.install == "pxe" and not (answers.network or answers.bridge) and "network" not in errors:
        errors["network"] = _("A network boot needs a virtual network or a host bridge.")
    if answers.network and answers.bridge and "bridge" not in errors:
        errors["bridge"] = _("Choose a virtual network or a host bridge, not both.")


def apply_host(answers, caps, guest_os):
    """Answers with the host's limits enforced and blanks filled from the OS; AnswerErrors otherwise."""
    errors = {}
    vcpus = answers.vcpus or min(max(guest_os.recommended_cpus, 1), caps.max_vcpus)
    memory_mib = answers.memory_mib or min(max(guest_os.recommended_ram // MiB, MIN_MEMORY_MIB),
                                           caps.memory_mib or MIN_MEMORY_MIB)
    if vcpus > caps.max_vcpus:
        errors["vcpus"] = _("This host allows at most %(max)s vCPUs for one VM.") % {"max": caps.max_vcpus}
    if caps.memory_mib and memory_mib > caps.memory_mib:
        errors["memory_mib"] = _("This host has %(max)s MiB of memory.") % {"max": caps.memory_mib}
    if answers.firmware == "uefi" and not caps.uefi:
        errors["firmware"] = _("This host offers no UEFI firmware (no OVMF loader in its domain capabilities).")
    disk_size_gib = answers.disk_size_gib
    if answers.disk_pool and not disk_size_gib:
        disk_size_gib = max(1, -(-guest_os.recommended_storage // GiB))
    if errors:
        raise AnswerErrors(errors)
    return replace(answers, vcpus=vcpus, memory_mib=memory_mib, disk_size_gib=disk_size_gib)


def _make(domain, path):
    """The element at `path` below the domain, created if missing (its place as libvirt prints it)."""
    return Path(path).make(domain.element, domain.ORDER)


def build_domain(answers, caps, guest_os, *, import_format="raw"):
    """The DomainXML the wizard defines, from answers already through clean_answers and apply_host.

    import_format: the existing volume's format, read from the host (libvirt does not probe it).
    """
    domain = DomainXML()
    domain.type = caps.domain_type
    domain.name = answers.name
    metadata = _make(domain, "./metadata")
    etree.SubElement(metadata, f"{{{WIZARD_NS}}}os", {"short-id": guest_os.short_id}, nsmap={"virtdeck": WIZARD_NS})
    domain.memory_kib = domain.current_memory_kib = answers.memory_mib * 1024
    domain.vcpus = answers.vcpus
    domain.os_type = "hvm"
    domain.arch = caps.arch
    machine = caps.machine_for(guest_os.machine)
    domain.machine = machine
    domain.firmware = "efi" if answers.firmware == "uefi" else None
    for feature in ("acpi", "apic"):
        _make(domain, f"./features/{feature}")
    _make(domain, "./clock").set("offset", "localtime" if guest_os.family == "winnt" else "utc")
    domain.on_poweroff, domain.on_reboot, domain.on_crash = "destroy", "restart", "destroy"
    if caps.emulator:
        domain.emulator = caps.emulator
    q35 = bool(machine) and "q35" in machine
    disk_bus = guest_os.disk_bus if guest_os.disk_bus != "sata" or q35 else "ide"
    cdrom_bus = "sata" if q35 else "ide"
    taken = set()

    def target(bus):
        name = next_target(taken, bus)
        taken.add(name)
        return name

    if answers.disk_pool:
        domain.disks.add(DiskXML.volume_disk(answers.disk_pool, answers.new_volume_name, target(disk_bus),
                                             bus=disk_bus, format=answers.disk_format))
    elif answers.import_volume:
        pool, volume = split_volume(answers.import_volume)
        domain.disks.add(DiskXML.volume_disk(pool, volume, target(disk_bus), bus=disk_bus,
                                             format=import_format))
    if answers.install == "iso":
        pool, volume = split_volume(answers.iso_volume)
        cdrom = DiskXML.volume_disk(pool, volume, target(cdrom_bus), bus=cdrom_bus, format="raw")
        cdrom.device, cdrom.readonly = "cdrom", True
        domain.disks.add(cdrom)
    if answers.network or answers.bridge:
        kind, source = ("network", answers.network) if answers.network else ("bridge", answers.bridge)
        domain.interfaces.add(InterfaceXML.build(kind, source, model=guest_os.nic_model))
    domain.boot_devices = {"iso": ["cdrom", "hd"], "pxe": ["network"]}.get(answers.install, ["hd"])
    domain.graphics.add(GraphicsXML.vnc())
    _make(domain, "./devices/input[@type='tablet']").set("bus", "usb")
    _make(domain, "./devices/video/model").set("type", "virtio" if guest_os.virtio_disk else "vga")
    return domain
