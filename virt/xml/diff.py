"""Which parts of two domain definitions differ. Pure.

A part is a top-level element (`memory`, `vcpu`, `os`, `cpu`, ...) or one device,
named so a person recognizes it: `disk vda`, `interface 52:54:00:12:34:56`,
`graphics vnc`, `controller usb 0`, else the tag and its position (`video 1`).

- changed_parts(old, new): what an edit of the configuration changes (the XML
  editor's summary before saving).
- next_boot_changes(live, inactive): for a running VM, the parts of its saved
  configuration that the running VM does not have yet: they apply at the next
  boot (a full shutdown and start; a reboot from inside the guest keeps the
  running definition).

Runtime-only data is ignored on both sides: the domain id, device aliases, disk
backing chains and source indexes, autoport graphics ports, interface tap names
and the network's bridge, pty paths, channel states, libvirt's default resource
partition and dynamic security labels. For next_boot_changes also the running
VM's `currentMemory` (the balloon's actual size, which the guest moves: setting
it live and in the configuration does not make the two agree), and what QEMU adds
to a running VM's CPU (the `check` mode and the features it enabled itself); a
`host-model` CPU is expanded while running, so a change *to* host-model is the
one change this cannot see. What is left differs because the definitions differ.
"""
import copy

from lxml import etree

from .base import XMLObject
from .parser import parse_untrusted

__all__ = ["parts", "changed_parts", "next_boot_changes"]


def _root(xml):
    """A private tree of `xml` (text, an XMLObject or an element), to edit freely."""
    if isinstance(xml, etree._Element):
        return copy.deepcopy(xml)
    if isinstance(xml, XMLObject):
        return copy.deepcopy(xml.element)
    return parse_untrusted(xml)  # also safe for XML libvirt produced, which never has a DOCTYPE


def _drop(root, xpath):
    for node in root.xpath(xpath):
        if isinstance(node, etree._Element):
            node.getparent().remove(node)
        else:  # an attribute result
            node.getparent().attrib.pop(node.attrname)


_RUNTIME = (
    "@id",
    "devices/*/alias",
    "devices/disk//backingStore",
    "devices/disk/source/@index",
    "devices/graphics[@autoport='yes']/@port",
    "devices/graphics[@autoport='yes']/@websocket",
    "devices/interface/target",
    "devices/interface/source/@portid",
    "devices/interface[@type='network']/source/@bridge",
    "devices/*[@type='pty']/source",
    "devices/console/@tty",
    "devices/channel/target/@state",
    "devices/channel[@type='unix']/source[@mode='bind']/@path",
    "seclabel[@type='dynamic']",
    "resource[count(*)=1][partition='/machine']",
)


def _normalized(xml):
    root = _root(xml)
    for xpath in _RUNTIME:
        _drop(root, xpath)
    for node in root.iter(etree.Element):
        node.tail = None
        if node.text is not None and not node.text.strip() and len(node):
            node.text = None  # indentation
    return root


def _device_key(device, seen):
    tag = device.tag
    if tag == "disk" and device.find("target") is not None:
        return f"disk {device.find('target').get('dev')}"
    if tag == "interface" and device.find("mac") is not None:
        return f"interface {device.find('mac').get('address')}"
    if tag == "graphics":
        return f"graphics {device.get('type')}"
    if tag == "controller":
        return f"controller {device.get('type')} {device.get('index', '0')}"
    seen[tag] = seen.get(tag, 0) + 1
    return f"{tag} {seen[tag]}"


def parts(xml):
    """{part name: canonical form} of a domain definition (text or DomainXML), runtime data left out."""
    root = _normalized(xml)
    found, seen = {}, {}
    for child in root.iterchildren(etree.Element):
        if child.tag == "devices":
            for device in child.iterchildren(etree.Element):
                found[_device_key(device, seen)] = etree.canonicalize(device, strip_text=True)
        else:
            seen[child.tag] = seen.get(child.tag, 0) + 1
            key = child.tag if seen[child.tag] == 1 else f"{child.tag} {seen[child.tag]}"
            found[key] = etree.canonicalize(child, strip_text=True)
    for name, value in root.attrib.items():
        found[f"@{name}"] = value
    return found


def changed_parts(old, new):
    """[{"part": name, "change": "added" | "removed" | "changed"}] from `old` to `new`, in `new`'s order
    (removed parts last, in `old`'s order)."""
    before, after = parts(old), parts(new)
    result = []
    for name, value in after.items():
        if name not in before:
            result.append({"part": name, "change": "added"})
        elif before[name] != value:
            result.append({"part": name, "change": "changed"})
    result += [{"part": name, "change": "removed"} for name in before if name not in after]
    return result


def _align_runtime(live, saved):
    """Give the running definition the saved values of what only the running VM decides."""
    live_memory, saved_memory = live.find("currentMemory"), saved.find("currentMemory")
    if live_memory is not None and saved_memory is not None:
        live.replace(live_memory, copy.deepcopy(saved_memory))
    _align_cpu(live, saved)


def _align_cpu(live, saved):
    """Take out of the running CPU what QEMU filled in, as far as the saved CPU allows telling it apart."""
    live_cpu, saved_cpu = live.find("cpu"), saved.find("cpu")
    if live_cpu is None or saved_cpu is None:
        return
    if saved_cpu.get("mode") == "host-model":
        live.replace(live_cpu, copy.deepcopy(saved_cpu))
        return
    live_cpu.attrib.pop("check", None)
    if saved_cpu.get("check") is not None:
        live_cpu.set("check", saved_cpu.get("check"))
    wanted = {feature.get("name") for feature in saved_cpu.iterfind("feature")}
    for feature in live_cpu.findall("feature"):
        if feature.get("name") not in wanted:
            live_cpu.remove(feature)


def next_boot_changes(live, inactive):
    """The parts of the saved configuration (`inactive`) a running VM (`live`) does not run yet."""
    live_root, saved_root = _root(live), _root(inactive)
    _align_runtime(live_root, saved_root)
    return changed_parts(live_root, saved_root)
