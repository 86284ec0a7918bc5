"""Test helpers shared by every app: personas, node fixtures, waiting."""
import time
from pathlib import Path

NODES = Path(__file__).resolve().parent / "nodes"
PASSWORD = "correct-horse-battery"


def node_uri(name):
    """test:///abs/path URI of a node fixture: each connection gets a private copy."""
    path = NODES / f"{name}.xml"
    if not path.exists():
        raise FileNotFoundError(path)
    return f"test://{path}"


def eventually(check, timeout=5.0, interval=0.05, message="condition not met"):
    """Poll `check` until it returns a truthy value; return it or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} within {timeout:g} s (last: {last!r})")


def fleet_node_xml(count, running_every=2, prefix="vm"):
    """Node XML with `count` test-driver domains (every `running_every`-th running, the rest shut off)."""
    from lxml import etree

    ns = "http://libvirt.org/schemas/domain/test/1.0"
    node = etree.Element("node")
    cpu = etree.SubElement(node, "cpu")
    for tag, value in (("nodes", 1), ("sockets", 2), ("cores", 8), ("threads", 2), ("active", 32),
                       ("mhz", 2400), ("model", "x86_64")):
        etree.SubElement(cpu, tag).text = str(value)
    etree.SubElement(node, "memory").text = str(256 * 1024 * 1024)
    for i in range(count):
        dom = etree.SubElement(node, "domain", type="test", nsmap={"test": ns})
        etree.SubElement(dom, "name").text = f"{prefix}{i:04d}"
        etree.SubElement(dom, "uuid").text = f"00000000-0000-4000-8000-{i:012d}"
        etree.SubElement(dom, "memory").text = str(262144 * (1 + i % 4))
        etree.SubElement(dom, "vcpu").text = str(1 + i % 4)
        os_el = etree.SubElement(dom, "os")
        etree.SubElement(os_el, "type").text = "hvm"
        if i % running_every:
            etree.SubElement(dom, f"{{{ns}}}runstate").text = "5"
    return etree.tostring(node, pretty_print=True, encoding="unicode")
