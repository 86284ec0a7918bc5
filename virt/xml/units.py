"""libvirt's size units (`<memory unit='GiB'>4</memory>`) and properties holding sizes.

The rules follow libvirt's virScaleInteger: case-insensitive; "b"/"byte"/"bytes";
a bare prefix ("k", "M") or "<prefix>iB" is a power of 1024, "<prefix>B" a
power of 1000. A missing unit means KiB for memory elements, bytes for storage sizes.
"""
from ..errors import InvalidConfig
from .base import KINDS, Path
from ..i18n import _

_PREFIXES = "kmgtpe"


def unit_factor(unit):
    """Bytes in one `unit`; raise InvalidConfig for a unit libvirt would reject."""
    lowered = (unit or "KiB").strip().lower()
    if lowered in ("b", "byte", "bytes"):
        return 1
    prefix, suffix = lowered[:1], lowered[1:]
    if prefix and prefix in _PREFIXES and suffix in ("", "ib", "b"):
        base = 1000 if suffix == "b" else 1024
        return base ** (_PREFIXES.index(prefix) + 1)
    raise InvalidConfig(_("Unknown size unit {unit!r}.").format(unit=unit))


def to_bytes(value, unit):
    return int(value) * unit_factor(unit)


def to_kib(value, unit):
    """`value` `unit`s in KiB, rounded up as libvirt rounds memory sizes."""
    return -(-to_bytes(value, unit) // 1024)


class SizeProperty:
    """An element holding a size with a unit attribute (`<capacity unit='GiB'>10</capacity>`), in bytes.

    A missing unit means bytes, as for storage sizes; writing stores `unit='bytes'`,
    as libvirt prints them. Subclasses change both units.
    """

    DEFAULT_UNIT = "bytes"  # what a number without a unit means
    STORED_UNIT = "bytes"  # the unit values are read and written in

    def __init__(self, xpath):
        self.path = Path(xpath)
        if self.path.attribute or not self.path.steps:
            raise ValueError(f"{type(self).__name__} needs an element path, got {xpath!r}")

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        node = self.path.find(obj.element)
        if node is None or node.text is None:
            return None
        value = KINDS[int][0](node.text)
        if value < 0:
            raise InvalidConfig(_("A size cannot be negative: {text!r}.").format(text=node.text))
        # Rounded up, as libvirt rounds memory sizes.
        return -(-to_bytes(value, node.get("unit") or self.DEFAULT_UNIT) // unit_factor(self.STORED_UNIT))

    def __set__(self, obj, value):
        if value is None:
            node = self.path.find(obj.element)
            if node is not None:
                node.getparent().remove(node)
            return
        if isinstance(value, bool):
            raise InvalidConfig(_("A size must be a number, not {value!r}.").format(value=value))
        value = int(value)
        if value < 0:
            raise InvalidConfig(_("A size cannot be negative: {value!r}.").format(value=value))
        node = self.path.make(obj.element, obj.ORDER)
        node.text = str(value)
        node.set("unit", self.STORED_UNIT)


class MemoryProperty(SizeProperty):
    """A memory size, read and written in KiB; a missing unit means KiB (libvirt's own way of printing memory)."""

    DEFAULT_UNIT = "KiB"
    STORED_UNIT = "KiB"
