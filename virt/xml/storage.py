"""`<pool>` and `<volume>` (libvirt's formatstorage.html), and builders that check their input first.

`POOL_TYPES` (virt/xml/pool_types.py) says which fields each pool type needs;
`build_pool()` and `build_volume()` refuse bad input with InvalidConfig before
any XML reaches libvirt. Sizes are in bytes whatever unit the XML uses.
"""
import re

from ..errors import InvalidConfig
from ..names import check_name
from .base import XMLChildren, XMLObject, XMLProperty
from .pool_types import POOL_TYPES, PoolType
from .units import SizeProperty
from ..i18n import _, gettext_noop

__all__ = ["PoolXML", "VolumeXML", "build_pool", "build_volume", "check_size", "check_format",
           "POOL_TYPES", "PoolType", "VOLUME_FORMATS", "MAX_VOLUME_BYTES"]

# What virtdeck creates and converts between; libvirt knows more (vmdk, vdi...) and they are read as is.
VOLUME_FORMATS = ("raw", "qcow2")
# A bound on sizes typed by people: 1 PiB is beyond any virtual disk this tool manages (a typo, or an attack).
MAX_VOLUME_BYTES = 2**50
_MODE = re.compile(r"^0?[0-7]{3}$")
_TEXT_MAX = 1024


class SourceHostXML(XMLObject):
    """`<host name='...' port='...'/>` in a pool's source (NFS server, iSCSI portal, Ceph monitor)."""

    ROOT_TAG = "host"
    name = XMLProperty("./@name")
    port = XMLProperty("./@port", int)


class SourceDeviceXML(XMLObject):
    """`<device path='...'/>`: a block device, a physical volume, or an iSCSI target's IQN."""

    ROOT_TAG = "device"
    path = XMLProperty("./@path")


class PoolXML(XMLObject):
    """`<pool type='dir|fs|netfs|logical|...'>`. Capacity, allocation and available are libvirt's to report."""

    ROOT_TAG = "pool"
    ORDER = ("name", "uuid", "capacity", "allocation", "available", "features", "source", "target", "refresh")

    type = XMLProperty("./@type")
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    capacity = SizeProperty("./capacity")
    allocation = SizeProperty("./allocation")
    available = SizeProperty("./available")

    source_hosts = XMLChildren("./source/host", SourceHostXML)
    source_host = XMLProperty("./source/host/@name")  # the first host; most types take one
    source_port = XMLProperty("./source/host/@port", int)
    source_devices = XMLChildren("./source/device", SourceDeviceXML)
    source_device = XMLProperty("./source/device/@path")  # the first device
    source_dir = XMLProperty("./source/dir/@path")  # netfs: the export (a share name for cifs); gluster: a subdir
    source_adapter_type = XMLProperty("./source/adapter/@type")  # scsi_host, fc_host
    source_adapter_name = XMLProperty("./source/adapter/@name")  # e.g. host0
    source_name = XMLProperty("./source/name")  # volume group, Ceph pool, gluster volume, zpool
    source_initiator = XMLProperty("./source/initiator/iqn/@name")
    auth_type = XMLProperty("./source/auth/@type")  # chap, ceph
    auth_username = XMLProperty("./source/auth/@username")
    auth_secret_usage = XMLProperty("./source/auth/secret/@usage")  # a libvirt secret, never the password
    auth_secret_uuid = XMLProperty("./source/auth/secret/@uuid")
    source_format = XMLProperty("./source/format/@type")
    source_protocol_version = XMLProperty("./source/protocol/@ver")  # netfs: NFS version

    target_path = XMLProperty("./target/path")
    target_mode = XMLProperty("./target/permissions/mode")
    target_owner = XMLProperty("./target/permissions/owner", int)
    target_group = XMLProperty("./target/permissions/group", int)
    target_label = XMLProperty("./target/permissions/label")

    @property
    def source_path(self):
        """Where the storage comes from, for display: host:dir, a device, or a named group/pool."""
        where = self.source_dir or self.source_device or self.source_name or self.source_adapter_name
        if self.source_host:
            return f"{self.source_host}:{where}" if where else self.source_host
        return where


class VolumeXML(XMLObject):
    """`<volume type='file|block|dir|network|netdir|ploop'>`."""

    ROOT_TAG = "volume"
    ORDER = ("name", "key", "source", "capacity", "allocation", "physical", "target", "backingStore")

    type = XMLProperty("./@type")
    name = XMLProperty("./name")
    key = XMLProperty("./key")
    capacity = SizeProperty("./capacity")  # what the guest sees
    allocation = SizeProperty("./allocation")  # what it uses on the host
    physical = SizeProperty("./physical")  # the file's size (libvirt >= 3.0)
    path = XMLProperty("./target/path")
    format = XMLProperty("./target/format/@type")
    mode = XMLProperty("./target/permissions/mode")
    owner = XMLProperty("./target/permissions/owner", int)
    group = XMLProperty("./target/permissions/group", int)
    compat = XMLProperty("./target/compat")  # qcow2: 0.10 or 1.1
    nocow = XMLProperty("./target/nocow", bool)
    lazy_refcounts = XMLProperty("./target/features/lazy_refcounts", bool)  # qcow2 1.1 only
    backing_path = XMLProperty("./backingStore/path")
    backing_format = XMLProperty("./backingStore/format/@type")


def check_size(value, what="size", minimum=1):
    """Return `value` if it is a whole number of bytes in [minimum, MAX_VOLUME_BYTES]; else InvalidConfig."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfig(_("The {what} must be a whole number of bytes, not {value!r}.")
                            .format(what=_(what), value=value))
    if value < minimum:
        raise InvalidConfig(_("The {what} must be at least {minimum} bytes, not {value}.")
                            .format(what=_(what), minimum=minimum, value=value))
    if value > MAX_VOLUME_BYTES:
        raise InvalidConfig(_("The {what} ({value} bytes) is over virtdeck's limit of {limit} bytes "
                              "(1 PiB).")
                            .format(what=_(what), value=value, limit=MAX_VOLUME_BYTES))
    return value


def check_format(volume_format):
    if volume_format not in VOLUME_FORMATS:
        raise InvalidConfig(_("Unknown volume format {volume_format!r}: expected one of {choices}.")
                            .format(volume_format=volume_format, choices=', '.join(VOLUME_FORMATS)))
    return volume_format


def _text(field, value):
    if not isinstance(value, str) or not value.strip() or len(value) > _TEXT_MAX:
        raise InvalidConfig(_("{field}: expected text of 1 to {most} characters, got {value!r}.")
                            .format(field=field, most=_TEXT_MAX, value=value))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidConfig(_("{field}: control characters are not allowed.").format(field=field))
    if field.endswith("_path") and not value.startswith("/"):
        raise InvalidConfig(_("{field}: expected an absolute path, got {value!r}.")
                            .format(field=field, value=value))
    return value


def _number(field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidConfig(_("{field}: expected a whole number from {low} to {high}, got {value!r}.")
                            .format(field=field, low=low, high=high, value=value))
    return value


def _checked(spec, field, value):
    if field == "source_port":
        return _number(field, value, 1, 65535)
    if field in ("target_owner", "target_group"):
        return _number(field, value, 0, 2**32 - 2)
    if field == "source_devices":
        if isinstance(value, str) or not value:
            raise InvalidConfig(_("{field}: expected a list of device paths, got {value!r}.")
                                .format(field=field, value=value))
        return [_text("source_device_path", device) for device in value]
    value = _text(field, value)
    if field == "target_mode" and not _MODE.match(value):
        raise InvalidConfig(_("{field}: expected an octal mode such as 0755, got {value!r}.")
                            .format(field=field, value=value))
    if field == "source_format" and value not in spec.source_formats:
        raise InvalidConfig(_("{field}: {value!r} is not a {name} pool format; expected one of {source_formats}.")
                            .format(field=field, value=value, name=spec.name,
                                    source_formats=', '.join(spec.source_formats)))
    return value


def build_pool(pool_type, name, **fields):
    """A new `<pool>` of `pool_type` from the fields POOL_TYPES lists for it (None or "" means not given)."""
    spec = POOL_TYPES.get(pool_type)
    if spec is None:
        raise InvalidConfig(_("Unknown pool type {pool_type!r}: expected one of {choices}.")
                            .format(pool_type=pool_type, choices=', '.join(POOL_TYPES)))
    check_name(name, gettext_noop("pool name"))
    given = {field: value for field, value in fields.items() if value not in (None, "", [], ())}
    unknown = sorted(set(given) - set(spec.fields))
    if unknown:
        raise InvalidConfig(_("A {pool_type} pool does not take {unknown}.")
                            .format(pool_type=pool_type, unknown=', '.join(unknown)))
    missing = [field for field in spec.required if field not in given]
    if missing:
        raise InvalidConfig(_("A {pool_type} pool needs {missing}.")
                            .format(pool_type=pool_type, missing=', '.join(missing)))
    pool = PoolXML()
    pool.type = pool_type
    pool.name = name
    for field in spec.fields:  # the table's order is libvirt's element order
        if field not in given:
            continue
        value = _checked(spec, field, given[field])
        if field == "source_devices":
            for path in value:
                pool.source_devices.add().path = path
        else:
            setattr(pool, field, value)
    if spec.auth and (pool.auth_username or pool.auth_secret_usage or pool.auth_secret_uuid):
        pool.auth_type = spec.auth
    if pool_type == "scsi":
        pool.source_adapter_type = "scsi_host"
    if pool_type == "logical":  # libvirt's schema wants a <target>, and libvirt sets it to this anyway
        pool.target_path = f"/dev/{pool.source_name or name}"
    elif pool.target_path is None and spec.default_target:  # where the host's device nodes are
        pool.target_path = spec.default_target
    return pool


def build_volume(name, capacity, *, volume_format="raw", allocation=0, lazy_refcounts=False,
                 backing_path=None, backing_format=None):
    """A new `<volume>`: `allocation` bytes preallocated of `capacity` (0: thin); qcow2 gets compat 1.1.

    volume_format=None writes no `<format>` (pools of block devices, whose volumes are raw by nature).
    """
    check_name(name, gettext_noop("volume name"))
    check_size(capacity, gettext_noop("capacity"))
    if volume_format is not None:
        check_format(volume_format)
    check_size(allocation, gettext_noop("allocation"), minimum=0)
    if allocation > capacity:
        raise InvalidConfig(_("The allocation ({allocation} bytes) cannot exceed the capacity ({capacity} bytes).")
                            .format(allocation=allocation, capacity=capacity))
    if volume_format != "qcow2" and (lazy_refcounts or backing_path):
        raise InvalidConfig(_("Lazy refcounts and backing files need the qcow2 format."))
    volume = VolumeXML()
    volume.name = name
    volume.capacity = capacity
    volume.allocation = allocation
    volume.format = volume_format
    if volume_format == "qcow2":
        # 1.1 (qemu >= 1.1): lazy refcounts, zero clusters, and what qemu-img writes today; libvirt
        # would otherwise write 0.10 for old qemu's sake.
        volume.compat = "1.1"
        volume.lazy_refcounts = lazy_refcounts
    if backing_path:
        volume.backing_path = _text("backing_path", backing_path)
        volume.backing_format = check_format(backing_format or "qcow2")
    return volume
