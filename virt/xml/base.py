"""Declarative XML mapping on lxml, after the idea of virtinst's XMLProperty.

An XMLObject wraps one lxml element. XMLProperty descriptors read a value from a
path below that element and, when assigned, create whatever elements and
attributes the path needs. Nothing else in the tree is touched, so XML from
libvirt survives parse -> edit -> serialize with its unknown parts intact.

Paths are a small XPath subset, so one parsed path serves both reading and
building: `./a/b[@type='x']/c/@attr` (element steps, each with at most one
`[@name='value']` predicate, then optionally one attribute).
"""
import copy
import re

from lxml import etree

from ..errors import InvalidConfig
from .parser import parse_trusted, parse_untrusted, to_string
from ..i18n import _

_STEP = re.compile(r"^([A-Za-z_][\w.-]*)(?:\[@([\w.-]+)='([^'/]*)'\])?$")


class Path:
    """A parsed path: element steps (tag, {attr: value}) and an optional final attribute."""

    def __init__(self, xpath):
        parts = [p for p in xpath.removeprefix(".").split("/") if p]
        self.attribute = parts.pop()[1:] if parts and parts[-1].startswith("@") else None
        self.steps = []
        for part in parts:
            match = _STEP.match(part)
            if match is None:
                raise ValueError(f"Unsupported path step {part!r} in {xpath!r}")
            tag, key, value = match.groups()
            self.steps.append((tag, {key: value} if key else {}))

    def find(self, root):
        """The element the path leads to, or None; the first match at each step, as XPath would."""
        node = root
        for tag, attrs in self.steps:
            node = _first_child(node, tag, attrs)
            if node is None:
                return None
        return node

    def make(self, root, order=()):
        """The element the path leads to, creating missing steps (with their predicate attributes)."""
        node = root
        for tag, attrs in self.steps:
            child = _first_child(node, tag, attrs)
            if child is None:
                child = etree.Element(tag, attrs)
                insert_ordered(node, child, order if node is root else ())
            node = child
        return node


def matching_children(parent, tag, attrs):
    return [c for c in parent.iterchildren(tag) if all(c.get(k) == v for k, v in attrs.items())]


def _first_child(parent, tag, attrs):
    return next(iter(matching_children(parent, tag, attrs)), None)


def insert_ordered(parent, child, order):
    """Insert before the first sibling that `order` places later; libvirt does not care, people reading do."""
    rank = order.index(child.tag) if child.tag in order else len(order)
    for index, sibling in enumerate(parent):
        if isinstance(sibling.tag, str) and sibling.tag in order and order.index(sibling.tag) > rank:
            parent.insert(index, child)
            return
    parent.append(child)


def prune(node, stop):
    """Remove `node` and then its ancestors while they are left empty, never `stop` itself."""
    while node is not stop and not len(node) and not node.attrib and not (node.text or "").strip():
        parent = node.getparent()
        parent.remove(node)
        node = parent


def _parse_int(raw):
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidConfig(_("Expected an integer, got {raw!r}.").format(raw=raw)) from None


def _flag(true, false):
    def parse(raw):
        if raw not in (true, false):
            raise InvalidConfig(_("Expected {true!r} or {false!r}, got {raw!r}.")
                                .format(true=true, false=false, raw=raw))
        return raw == true

    return parse, lambda value: true if value else false


# kind -> (text to value, value to text). bool is special: presence of an element.
KINDS = {
    str: (str, str),
    int: (_parse_int, lambda value: str(int(value))),
    "yesno": _flag("yes", "no"),
    "onoff": _flag("on", "off"),
}


class XMLProperty:
    """One value at `xpath`. Reading a missing node gives None; assigning None removes it.

    kind: str, int, "yesno"/"onoff" (an attribute or text holding a flag), or bool
    (the element's presence, as in `<readonly/>`).
    """

    def __init__(self, xpath, kind=str):
        self.path = Path(xpath)
        if kind is bool and (self.path.attribute or not self.path.steps):
            raise ValueError("kind=bool means a child element's presence; use 'yesno' for an attribute")
        if kind is not bool and kind not in KINDS:
            raise ValueError(f"Unknown kind {kind!r}")
        self.kind = kind
        self.__doc__ = f"{xpath} ({getattr(kind, '__name__', kind)})"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        node = self.path.find(obj.element)
        if self.kind is bool:
            return node is not None
        raw = None if node is None else node.get(self.path.attribute) if self.path.attribute else node.text
        return None if raw is None else KINDS[self.kind][0](raw)

    def __set__(self, obj, value):
        if value is None or (self.kind is bool and not value):
            self.clear(obj)
            return
        node = self.path.make(obj.element, obj.ORDER)
        if self.kind is bool:
            return
        text = KINDS[self.kind][1](value)
        if self.path.attribute:
            node.set(self.path.attribute, text)
        else:
            node.text = text

    def clear(self, obj):
        node = self.path.find(obj.element)
        if node is None:
            return
        if self.kind is bool:
            # The element's presence is the value: remove it even if it carries attributes.
            parent = node.getparent()
            parent.remove(node)
            node = parent
        elif self.path.attribute:
            node.attrib.pop(self.path.attribute, None)
        else:
            node.text = None
        prune(node, obj.element)


class XMLChildren:
    """The elements at `xpath` (e.g. "./devices/disk"), each wrapped in `cls`, as a live list."""

    def __init__(self, xpath, cls):
        parent_xpath, _, last = xpath.rpartition("/")
        child_path = Path(last)
        if child_path.attribute or len(child_path.steps) != 1:
            raise ValueError(f"XMLChildren needs an element path, got {xpath!r}")
        self.parent_path = Path(parent_xpath)
        (self.tag, self.attrs), = child_path.steps
        self.cls = cls

    def __get__(self, obj, owner=None):
        return self if obj is None else ChildList(obj, self)


class ChildList:
    """Iterate, index, len(), add() and remove() the children one XMLChildren describes."""

    def __init__(self, owner, spec):
        self.owner = owner
        self.spec = spec

    def _elements(self):
        parent = self.spec.parent_path.find(self.owner.element)
        if parent is None:
            return []
        return matching_children(parent, self.spec.tag, self.spec.attrs)

    def __iter__(self):
        return (self.spec.cls(element) for element in self._elements())

    def __len__(self):
        return len(self._elements())

    def __getitem__(self, index):
        return self.spec.cls(self._elements()[index])

    def add(self, child=None):
        """Append `child` (a new empty one if None) after its last sibling of the same kind; return it."""
        child = self.spec.cls() if child is None else child
        if child.element.tag != self.spec.tag:
            raise ValueError(f"Expected a <{self.spec.tag}>, got <{child.element.tag}>")
        for key, value in self.spec.attrs.items():
            child.element.set(key, value)
        existing = self._elements()
        if existing:
            existing[-1].addnext(child.element)
        else:
            parent = self.spec.parent_path.make(self.owner.element, self.owner.ORDER)
            insert_ordered(parent, child.element, self.owner.ORDER if parent is self.owner.element else ())
        return child

    def remove(self, child):
        if child.element not in self._elements():
            raise ValueError(f"{child!r} is not one of these children")
        child.element.getparent().remove(child.element)


class XMLObject:
    """Wraps one element. Subclasses set ROOT_TAG and declare XMLProperty / XMLChildren."""

    ROOT_TAG = None
    # Child tags in libvirt's own output order, used when creating children of the root.
    ORDER = ()

    def __init__(self, element=None):
        self.element = etree.Element(self.ROOT_TAG) if element is None else element

    @classmethod
    def from_xml(cls, text, *, trusted=False):
        """Parse a document. Untrusted (the default) raises InvalidConfig for entities or bad XML;
        `trusted=True` is only for XML that libvirt produced (lxml's own errors pass through)."""
        root = parse_trusted(text) if trusted else parse_untrusted(text)
        if root.tag != cls.ROOT_TAG:
            raise InvalidConfig(_("Expected a <{root_tag}> document, got <{tag}>.")
                                .format(root_tag=cls.ROOT_TAG, tag=root.tag))
        return cls(root)

    def to_xml(self):
        """Serialize, indented as libvirt does (a copy is indented; the live tree is left as is)."""
        tree = copy.deepcopy(self.element)
        tree.tail = None  # a child object's copy would otherwise carry its sibling indentation
        etree.indent(tree, space="  ")
        return to_string(tree)

    def __eq__(self, other):
        return isinstance(other, XMLObject) and other.element is self.element

    def __hash__(self):
        return id(self.element)

    def __repr__(self):
        return f"<{type(self).__name__}>"
