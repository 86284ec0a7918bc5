"""virt.console: the VNC endpoint read from a live domain XML (pure), and the screenshot stream."""
import pytest

from virt.console import VncEndpoint, vnc_endpoint

DOMAIN = "<domain type='qemu'><name>vm</name><devices>{}</devices></domain>"


@pytest.mark.parametrize(("graphics", "expected"), [
    ("<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/>"
     "</graphics>", VncEndpoint(listen="127.0.0.1", port=5901)),
    ("<graphics type='vnc' port='5902' listen='0.0.0.0' passwd='pw'/>", VncEndpoint(listen="0.0.0.0", port=5902,
                                                                                  password="pw")),
    ("<graphics type='vnc' port='5903'><listen type='address' address='10.0.0.5'/></graphics>",
     VncEndpoint(listen="10.0.0.5", port=5903)),
    ("<graphics type='vnc' port='5904'/>", VncEndpoint(port=5904)),
    ("<graphics type='vnc' socket='/run/vnc.sock'/>", VncEndpoint(socket="/run/vnc.sock")),
    ("<graphics type='vnc'><listen type='socket' socket='/run/l.sock'/></graphics>", VncEndpoint(socket="/run/l.sock")),
    ("<graphics type='spice' port='5930'/><graphics type='vnc' port='5905'/>", VncEndpoint(port=5905)),
    ("<graphics type='vnc' port='-1' autoport='yes'/>", None),  # not running: no port yet
    ("<graphics type='spice' port='5930'/>", None),
    ("", None),
])
def test_it_reads_the_first_vnc_display(graphics, expected):
    assert vnc_endpoint(DOMAIN.format(graphics)) == expected


def test_it_keeps_the_password_out_of_repr():
    endpoint = vnc_endpoint(DOMAIN.format("<graphics type='vnc' port='5902' passwd='hunter2'/>"))
    assert endpoint.password == "hunter2" and "hunter2" not in repr(endpoint)


@pytest.mark.parametrize(("listen", "socket", "loopback_only", "everywhere"), [
    ("127.0.0.1", None, True, False), ("::1", None, True, False), (None, None, True, False),
    ("localhost", None, True, False), ("0.0.0.0", None, False, True), ("::", None, False, True),
    ("192.0.2.7", None, False, False), (None, "/run/vnc.sock", True, False),
])
def test_it_knows_who_can_reach_an_endpoint(listen, socket, loopback_only, everywhere):
    endpoint = VncEndpoint(listen=listen, port=None if socket else 5900, socket=socket)
    assert (endpoint.listens_on_loopback_only, endpoint.listens_everywhere) == (loopback_only, everywhere)
