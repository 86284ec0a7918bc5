"""One libvirt domain, wrapped (nova's guest.py idea): lifecycle, XML, jobs; devices, vCPUs, memory and disk
size come from virt/domain_config.py, the common hardware changes (disks, media, NICs, VNC, CPU, boot order)
from virt/hardware.py, snapshots from virt/snapshots.py.

Services call it inside a pool call, never holding on to it afterwards:

    call(host, lambda conn: Domain.lookup(conn, uuid).shutdown())

Methods take no connection and return plain data (str, bool, dict); flags are
keyword arguments, so no libvirt name leaves virt/. A libvirtError raised here
is translated by the pool like any other; the few errors raised directly are
VirtErrors with a message for the user. XML may be given as text or as an
XMLObject; text is checked by the hostile-input parser before libvirt sees it.
"""
import uuid as uuidlib

import libvirt

from . import domain_delete, inventory, lifecycle
from .domain_config import checked_text
from .errors import InvalidConfig, OperationInvalid
from .hardware import HardwareChanges
from .jobinfo import job_from_stats
from .snapshots import Snapshots
from .xml.parser import parse_untrusted
from .i18n import _

_SHUTDOWN_MODES = {
    None: 0,
    "acpi": libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN,
    "agent": libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT,
    "initctl": libvirt.VIR_DOMAIN_SHUTDOWN_INITCTL,
    "signal": libvirt.VIR_DOMAIN_SHUTDOWN_SIGNAL,
    "paravirt": libvirt.VIR_DOMAIN_SHUTDOWN_PARAVIRT,
}
_REBOOT_MODES = {
    None: 0,
    "acpi": libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN,
    "agent": libvirt.VIR_DOMAIN_REBOOT_GUEST_AGENT,
    "initctl": libvirt.VIR_DOMAIN_REBOOT_INITCTL,
    "signal": libvirt.VIR_DOMAIN_REBOOT_SIGNAL,
    "paravirt": libvirt.VIR_DOMAIN_REBOOT_PARAVIRT,
}
# undefine flags a driver may not know (libvirt's test driver refuses NVRAM and CHECKPOINTS): a driver that
# does not know them has nothing of the kind to remove, so undefine retries without them.
_UNDEFINE_OPTIONAL = (libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                      | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)


def define(conn, xml, validate=True):
    """Define (or redefine) a persistent domain; with `validate`, libvirt checks it against its schema
    and its message comes back as InvalidConfig."""
    flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE if validate else 0
    return Domain(conn.defineXMLFlags(checked_text(xml), flags))


def create_from_xml(conn, xml, paused=False, validate=True):
    """Start a transient domain (gone when it stops)."""
    flags = (libvirt.VIR_DOMAIN_START_PAUSED if paused else 0) | (libvirt.VIR_DOMAIN_START_VALIDATE if validate else 0)
    return Domain(conn.createXML(checked_text(xml), flags))


def define_new(conn, xml, validate=True):
    """Define a domain that must not exist yet: defineXML would silently redefine a domain with the same
    UUID, and refuses the same name with another UUID as an "operation failed". InvalidConfig names it."""
    text = checked_text(xml)
    root = parse_untrusted(text)
    for key, lookup in ((root.findtext("name"), conn.lookupByName), (root.findtext("uuid"), conn.lookupByUUIDString)):
        if key is None:
            continue
        try:
            existing = lookup(key)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue
            raise
        raise InvalidConfig(_("A domain named {name!r} with UUID {uuid} already exists on this host.")
                            .format(name=existing.name(), uuid=existing.UUIDString()), code=libvirt.VIR_ERR_DOM_EXIST)
    return define(conn, text, validate=validate)


class Domain(HardwareChanges):
    def __init__(self, dom):
        self._dom = dom

    @classmethod
    def lookup(cls, conn, key):
        """The domain with this UUID (any spelling) or, failing that form, this name."""
        try:
            uuid = str(uuidlib.UUID(str(key)))
        except ValueError:
            return cls(conn.lookupByName(key))
        return cls(conn.lookupByUUIDString(uuid))

    @property
    def uuid(self):
        return self._dom.UUIDString()

    @property
    def name(self):
        return self._dom.name()

    def __repr__(self):
        return f"<Domain {self.name}>"

    # State

    def state(self):
        """The state as virt/inventory names it ("running", "shut off", ...)."""
        return inventory.state_name(self._dom.state()[0])

    def is_active(self):
        return bool(self._dom.isActive())

    def is_persistent(self):
        return bool(self._dom.isPersistent())

    def has_managed_save(self):
        return bool(self._dom.hasManagedSaveImage(0))

    def _lifecycle_facts(self):
        state, persistent = self.state(), self.is_persistent()
        # libvirt keeps a managed save image only for a VM that is shut off: one RPC fewer for the others.
        saved = persistent and state == lifecycle.SHUT_OFF and self.has_managed_save()
        return state, {"persistent": persistent, "managed_save": saved}

    def allowed_actions(self):
        """lifecycle.allowed_actions for this domain as it is now (three or four RPCs)."""
        state, facts = self._lifecycle_facts()
        return lifecycle.allowed_actions(state, **facts)

    def check(self, action):
        """lifecycle.check against the domain as it is now: the guard a service runs before an action."""
        state, facts = self._lifecycle_facts()
        lifecycle.check(action, state, **facts)

    def explained(self, action, do):
        """do(self) without asking the state first, for actions libvirt itself refuses in exactly the states
        lifecycle's table refuses (start: already running; destroy: not running), saving the guard's three or
        four RPCs. When libvirt refuses it, the guard runs then and raises its own message, as `check` first
        would have; libvirt's own error stands if the guard passes or cannot run. (Not only
        VIR_ERR_OPERATION_INVALID, QEMU's code: the test driver says "already running" as an internal error.)
        """
        try:
            return do(self)
        except libvirt.libvirtError as refused:
            try:
                self.check(action)
            except libvirt.libvirtError:
                raise refused from None
            raise

    # Lifecycle

    def start(self, paused=False):
        """Boot the VM (a managed save image, if any, is resumed instead: see restore)."""
        self._dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if paused else 0)

    def restore(self, paused=False):
        """Resume the state a managed save kept (start does it; this refuses a VM that has none)."""
        if not self.has_managed_save():
            raise OperationInvalid(_("{name} has no saved state to restore.").format(name=self.name))
        self.start(paused=paused)

    def shutdown(self, mode=None):
        """Ask the guest to shut down. mode: None (the hypervisor's choice), acpi, agent, initctl, signal,
        paravirt. Returns at once; the guest may take its time or ignore it (then destroy)."""
        self._dom.shutdownFlags(_mode(_SHUTDOWN_MODES, mode))

    def reboot(self, mode=None):
        self._dom.reboot(_mode(_REBOOT_MODES, mode))

    def destroy(self, graceful=False):
        """Force off. graceful: only SIGTERM QEMU (it flushes its caches), never SIGKILL it."""
        self._dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL if graceful else 0)

    def reset(self):
        """The reset button: the guest restarts at once, without shutting down."""
        self._dom.reset(0)

    def suspend(self):
        self._dom.suspend()

    def resume(self):
        self._dom.resume()

    def managed_save(self):
        """Save the memory state to the host's disk and stop; the next start resumes it."""
        self._dom.managedSave(0)

    def managed_save_remove(self):
        self._dom.managedSaveRemove(0)

    def autostart(self):
        return bool(self._dom.autostart())

    def set_autostart(self, enabled):
        self._dom.setAutostart(1 if enabled else 0)

    def rename(self, new_name):
        """Rename a shut-off VM (libvirt refuses a running one, or one with a saved state); returns the name."""
        self.check("rename")
        self._dom.rename(new_name, 0)
        return new_name

    def undefine(self, keep_nvram=False):
        """Remove the definition with its managed save image, snapshot and checkpoint metadata and UEFI
        variables (unless keep_nvram). Disk images stay. A running VM keeps running, as transient."""
        flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                 | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
                 | (libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM if keep_nvram else libvirt.VIR_DOMAIN_UNDEFINE_NVRAM))
        try:
            self._dom.undefineFlags(flags)
        except libvirt.libvirtError as exc:
            if not _flags_refused(exc):
                raise
            self._dom.undefineFlags(flags & ~_UNDEFINE_OPTIONAL)

    def delete(self, delete_volumes=False, keep_nvram=False):
        """Undefine a shut-off VM, and with delete_volumes its disk images: {"deleted", "left"}
        (see virt/domain_delete.py for which images are the VM's and which stay)."""
        self.check("delete")
        return domain_delete.delete_domain(self, delete_volumes=delete_volumes, keep_nvram=keep_nvram)

    # XML

    def xml_desc(self, inactive=False, secure=False):
        """The definition: the running one, or with inactive the one the next boot uses. secure adds
        passwords (graphics passwd): never show that one to a user or log it."""
        flags = (libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0) | (libvirt.VIR_DOMAIN_XML_SECURE if secure else 0)
        return self._dom.XMLDesc(flags)

    # Long operations

    def job_info(self, completed=False):
        """The running job's progress (see job_from_stats), or with completed the last finished job's.

        A VM that is not running has no job: type "none" (a migrated-away or saved VM ends its job so).
        """
        try:
            return job_from_stats(self._dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED if completed else 0))
        except libvirt.libvirtError as exc:
            if completed or exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise
            return job_from_stats({})

    def abort_job(self):
        """Abort the running job; False if none was running (it may have just finished)."""
        try:
            self._dom.abortJob()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
                return False
            raise
        return True

    @property
    def snapshots(self):
        return Snapshots(self._dom)


def _mode(modes, mode):
    if mode not in modes:
        raise InvalidConfig(_("Unknown mode {mode!r}; one of: {modes}.")
                            .format(mode=mode, modes=', '.join(m for m in modes if m)))
    return modes[mode]


def _flags_refused(exc):
    """libvirt's virCheckFlags message (VIR_ERR_INVALID_ARG "unsupported flags ..."), or an explicit refusal."""
    code = exc.get_error_code()
    return code in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED) or (
        code == libvirt.VIR_ERR_INVALID_ARG and "unsupported flags" in (exc.get_error_message() or ""))

