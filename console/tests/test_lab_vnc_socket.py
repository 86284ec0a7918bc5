"""The VNC proxy to a display on a unix socket (`<graphics type='vnc'><listen type='socket'/>`), real QEMU under
TCG: on this machine through qemu:///system, and on the two-host lab's hostA reached with qemu+ssh://, through
asyncssh's unix-socket forwarding (direct-streamlocal) into hostA's own mounts. Neither display has a TCP port,
so reaching QEMU's VNC server at all proves the socket path."""
import asyncio
import os
import subprocess
import uuid

import libvirt
import pytest
from lxml import etree

from console.refusals import Refusal
from lab import guest

from .test_lab_vnc import daphne, instance_of, open_console, screen_through_proxy  # noqa: F401 - fixtures
from .vnc_client import refusal_code

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def socket_display_xml(name, disk):
    """lab/guest.py's XML with its VNC display on a unix socket libvirt places itself."""
    dom = etree.fromstring(guest.domain_xml(name, disk))
    graphics = dom.find("devices/graphics")
    for attribute in ("autoport", "listen"):
        graphics.attrib.pop(attribute, None)
    for listen in graphics.findall("listen"):
        graphics.remove(listen)
    etree.SubElement(graphics, "listen", type="socket")
    return etree.tostring(dom, encoding="unicode")


def vnc_socket_of(dom):
    """The live display's socket path and port, from libvirt directly: (socket, port)."""
    graphics = etree.fromstring(dom.XMLDesc(0)).find("devices/graphics")
    return graphics.get("socket"), graphics.get("port")


@pytest.fixture
def local_host(lab, make_host):
    return make_host("local", uri="qemu:///system")


@pytest.fixture
def hostA_socket_vm(two_hosts):
    """A running guest on hostA (its disk in the directory both hosts share) with a socket display; removed after."""
    conn = libvirt.open(two_hosts["a"]["uri"])
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    disk = guest.make_disk(two_hosts["shared"], name)
    dom = conn.defineXML(socket_display_xml(name, disk))
    try:
        dom.create()
        yield dom
    finally:
        guest.remove(conn, dom.name())
        conn.close()
        subprocess.run(["rm", "-f", disk], check=False)


def test_it_reaches_a_local_display_on_a_unix_socket(admin_user, local_host, lab_guests, daphne, tmp_path):
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    dom = lab_guests.conn.defineXML(socket_display_xml(name, guest.make_disk(tmp_path, name)))
    lab_guests.made.append(dom)
    dom.create()
    path, port = vnc_socket_of(dom)
    assert path and port is None and os.path.exists(path)  # libvirt placed the socket; no TCP port
    vm = instance_of(local_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    width, height, server_name, rects, _ = asyncio.run(screen_through_proxy(url, daphne, cookie))
    assert server_name == f"QEMU ({name})" and width > 0 and height > 0 and rects >= 1


def test_it_tunnels_to_a_socket_display_of_a_host_reached_over_ssh(admin_user, make_host, two_hosts,
                                                                   hostA_socket_vm, daphne):
    a = two_hosts["a"]
    host = make_host(host_name="hostA-ssh", uri=f"qemu+ssh://root@{a['address']}/system",
                     ssh_private_key=two_hosts["ssh_key"].read_text(),
                     ssh_known_hosts=two_hosts["known_hosts"].read_text())
    path, port = vnc_socket_of(hostA_socket_vm)
    # The socket lives in hostA's private mounts, not on this machine's filesystem.
    assert path and port is None and not os.path.exists(path)
    vm = instance_of(host, hostA_socket_vm)
    url, cookie = open_console(daphne, admin_user, vm)
    width, height, server_name, rects, _ = asyncio.run(screen_through_proxy(url, daphne, cookie))
    assert server_name == f"QEMU ({hostA_socket_vm.name()})" and rects >= 1


def test_it_refuses_a_socket_display_of_a_host_reached_over_plain_tcp(admin_user, make_host, two_hosts,
                                                                      hostA_socket_vm, daphne):
    host = make_host(host_name="hostA", uri=two_hosts["a"]["uri"])  # qemu+tcp://10.77.0.1: no way to its sockets
    vm = instance_of(host, hostA_socket_vm)
    url, cookie = open_console(daphne, admin_user, vm)
    assert refusal_code(url, daphne, cookie) == Refusal.UNREACHABLE
