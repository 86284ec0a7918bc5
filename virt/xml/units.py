"""libvirt's size units (`<memory unit='GiB'>4</memory>`) and a KiB-valued property.

The rules follow libvirt's virScaleInteger: case-insensitive; "b"/"byte"/"bytes";
a bare prefix ("k", "M") or "<prefix>iB" is a power of 1024, "<prefix>B" a
power of 1000. A missing unit means KiB for memory elements.
"""
from ..errors import InvalidConfig
from .base import KINDS, Path

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
    raise InvalidConfig(f"Unknown size unit {unit!r}.")


def to_bytes(value, unit):
    return int(value) * unit_factor(unit)


def to_kib(value, unit):
    """`value` `unit`s in KiB, rounded up as libvirt rounds memory sizes."""
    return -(-to_bytes(value, unit) // 1024)


class MemoryProperty:
    """An element holding a size with a unit attribute, read and written in KiB.

    Writing always stores `unit='KiB'`, libvirt's own way of printing memory.
    """

    def __init__(self, xpath):
        self.path = Path(xpath)
        if self.path.attribute or not self.path.steps:
            raise ValueError(f"MemoryProperty needs an element path, got {xpath!r}")

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        node = self.path.find(obj.element)
        if node is None or node.text is None:
            return None
        value = KINDS[int][0](node.text)
        if value < 0:
            raise InvalidConfig(f"A size cannot be negative: {node.text!r}.")
        return to_kib(value, node.get("unit"))

    def __set__(self, obj, kib):
        if kib is None:
            node = self.path.find(obj.element)
            if node is not None:
                node.getparent().remove(node)
            return
        if int(kib) < 0:
            raise InvalidConfig(f"A size cannot be negative: {kib!r}.")
        node = self.path.make(obj.element, obj.ORDER)
        node.text = str(int(kib))
        node.set("unit", "KiB")
