"""Test-driver node files: only checked files inside the allowed directories, handed to libvirt as a private copy."""
import os
import stat

import libvirt
import pytest

from core.testing import NODES
from virt import testnode
from virt.errors import URIError

SECRET = "SECRET-LINE-Qx7 root:$y$j9T$hash:19000:0:99999:7:::"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
POOL = "<pool type='dir'><name>p</name><target><path>/p</path></target>{}</pool>"
DOMAIN = "<domain type='test' xmlns:test='{ns}'><name>d</name><memory>1024</memory><os><type>hvm</type></os>{}</domain>"

# Every place libvirt 9.0's test driver loads another file from (testParseXMLDocFromFile).
LOADS_A_FILE = {
    "domain": "<domain file='{file}'/>",
    "network": "<network file='{file}'/>",
    "interface": "<interface file='{file}'/>",
    "pool": "<pool file='{file}'/>",
    "volume": POOL.format("<volume file='{file}'/>"),
    "device": "<device file='{file}'/>",
    "domainsnapshot": DOMAIN.format("<test:domainsnapshot file='{file}'/>", ns=TEST_NS),
}


@pytest.fixture
def secret(tmp_path):
    """A file outside the node directory whose first line must never come back."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def nodes(tmp_path):
    directory = tmp_path / "nodes"
    directory.mkdir()
    return directory


def write(directory, body, name="node.xml"):
    path = directory / name
    path.write_text(f"<node>{body}</node>")
    return path


def libvirt_error(path):
    """What libvirt itself says when it opens `path` with no check in front."""
    libvirt.registerErrorHandler(lambda *_: None, None)
    try:
        libvirt.open(f"test://{path}").close()
    except libvirt.libvirtError as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize("construct", sorted(LOADS_A_FILE))
def test_it_refuses_every_element_libvirt_loads_another_file_for(nodes, secret, construct):
    path = write(nodes, LOADS_A_FILE[construct].format(file=secret))
    assert SECRET in libvirt_error(path)  # libvirt reads the file, and quotes it
    with pytest.raises(URIError, match="must not load other files") as refused:
        testnode.read(path, [nodes])
    assert SECRET not in str(refused.value) and str(secret) not in str(refused.value)


def test_it_refuses_a_file_attribute_under_any_namespace_prefix(nodes, secret):
    # libvirt reads attributes with xmlGetProp, which ignores their namespace.
    path = write(nodes, f"<domain xmlns:x='urn:x' x:file='{secret}'/>")
    with pytest.raises(URIError, match="must not load other files"):
        testnode.read(path, [nodes])


def test_it_accepts_disk_and_log_paths_which_the_test_driver_never_opens(nodes, secret):
    devices = (f"<devices><disk type='file' device='disk'><source file='{secret}'/><target dev='vda'/></disk>"
               f"<serial type='pty'><log file='{secret}'/></serial></devices>")
    path = write(nodes, DOMAIN.format(devices, ns=TEST_NS))
    assert testnode.read(path, [nodes]) == path.read_bytes()
    assert testnode.read(NODES / "small.xml", [NODES])  # the suite's fixture has a disk image path


def test_it_refuses_a_symlink_that_leads_out_of_the_allowed_directories(nodes, secret):
    link = nodes / "link.xml"
    link.symlink_to(secret)
    assert SECRET in libvirt_error(link)  # what libvirt alone would do
    with pytest.raises(URIError, match="inside an allowed directory") as refused:
        testnode.read(link, [nodes])
    assert SECRET not in str(refused.value) and str(secret) not in str(refused.value)


def test_it_accepts_a_symlink_that_stays_inside(nodes):
    real = write(nodes, "", name="real.xml")
    (nodes / "alias.xml").symlink_to(real)
    assert testnode.read(nodes / "alias.xml", [nodes]) == b"<node></node>"


@pytest.mark.parametrize("content", [
    f"{SECRET}\n",
    f"<node>\n<cpu>{SECRET}</model>\n</node>",
    f"<!DOCTYPE node [<!ENTITY s SYSTEM 'file:///etc/hostname'>]>\n<node><cpu><model>&s;</model></cpu></node>",
    "<!DOCTYPE node SYSTEM 'http://127.0.0.1:1/node.dtd'>\n<node/>",
    f"<node><xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='{SECRET}.xml'/></node>",
    f"<{SECRET.split()[0]}/>",
], ids=["not-xml", "malformed", "entity", "external-dtd", "xinclude", "other-root"])
def test_it_refuses_what_is_not_a_plain_node_file_without_quoting_it(nodes, content):
    path = nodes / "bad.xml"
    path.write_text(content)
    with pytest.raises(URIError) as refused:
        testnode.read(path, [nodes])
    assert "SECRET" not in str(refused.value)


def test_it_refuses_what_is_not_a_regular_file(nodes):
    os.mkfifo(nodes / "fifo.xml")  # opening it for reading would block libvirt
    (nodes / "dir.xml").mkdir()
    for name in ("fifo.xml", "dir.xml"):
        with pytest.raises(URIError, match="not a regular file"):
            testnode.read(nodes / name, [nodes])
    with pytest.raises(URIError, match="cannot be read"):
        testnode.read(nodes / "missing.xml", [nodes])


def test_it_hands_libvirt_a_private_copy_of_exactly_the_checked_bytes(nodes, tmp_path, secret):
    path = write(nodes, DOMAIN.format("", ns=TEST_NS))
    copies = tmp_path / "copies"
    copy = testnode.private_copy(path, [nodes], copies)
    assert open(copy, "rb").read() == path.read_bytes()
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600 and stat.S_IMODE(os.stat(copies).st_mode) == 0o700
    conn = libvirt.open(f"test://{copy}")
    assert [d.name() for d in conn.listAllDomains()] == ["d"]
    conn.close()

    # The file is swapped after the check: libvirt still gets the checked bytes, and the next check refuses.
    path.unlink()
    path.symlink_to(secret)
    assert open(copy, "rb").read() == b"<node>" + DOMAIN.format("", ns=TEST_NS).encode() + b"</node>"
    with pytest.raises(URIError, match="inside an allowed directory"):
        testnode.private_copy(path, [nodes], copies)
    assert SECRET not in "".join(p.read_text() for p in copies.iterdir())


def test_it_makes_a_new_copy_when_the_file_changes(nodes, tmp_path):
    path = write(nodes, "")
    first = testnode.private_copy(path, [nodes], tmp_path / "copies")
    assert testnode.private_copy(path, [nodes], tmp_path / "copies") == first
    write(nodes, "<memory>1048576</memory>")
    second = testnode.private_copy(path, [nodes], tmp_path / "copies")
    assert second != first and open(second, "rb").read() == path.read_bytes()
