"""The VNC proxy through daphne against real QEMU (lab, TCG): the RFB handshake, a FramebufferUpdate,
and a VNC password that virtdeck uses with QEMU and never sends to the browser."""
import asyncio
import socket
import uuid

import pytest
from django.test import Client
from lxml import etree

from console.refusals import Refusal
from core.testing import daphne_process
from hosts.sync import sync_host
from instances.models import Instance
from lab import guest

from .vnc_client import VncOverWebsocket, connect, refusal_code

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
PASSWORD = "s3cr3tPw"  # VNC uses the first 8 bytes


@pytest.fixture
def daphne(tmp_path):
    with daphne_process(tmp_path) as (base, _):
        yield base


def define_with_password(lab_guests, tmp_path, password):
    """A running lab guest whose VNC display asks for `password` (lab/guest.py's XML plus an lxml edit)."""
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    dom_xml = etree.fromstring(guest.domain_xml(name, guest.make_disk(tmp_path, name)))
    dom_xml.find("devices/graphics").set("passwd", password)
    dom = lab_guests.conn.defineXML(etree.tostring(dom_xml, encoding="unicode"))
    lab_guests.made.append(dom)
    dom.create()
    return dom


def vnc_port(dom):
    return int(etree.fromstring(dom.XMLDesc(0)).find("devices/graphics").get("port"))


def security_types_offered(port):
    """What QEMU's VNC server offers a client that connects straight to it (out of band, no virtdeck)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        assert raw.recv(12) == b"RFB 003.008\n"
        raw.sendall(b"RFB 003.008\n")
        count = raw.recv(1)[0]
        return set(raw.recv(count))


def open_console(base, user, vm, kind="vnc"):
    """Log in with a session, ask the API for a ticket as the page does: (websocket URL, cookie)."""
    client = Client()
    client.force_login(user)
    response = client.post(f"/api/instances/{vm.pk}/console/", {"kind": kind}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    url = base.replace("http", "ws", 1) + f"{body['ws_path']}?ticket={body['ticket']}"
    return url, f"sessionid={client.cookies['sessionid'].value}"


def instance_of(host, dom):
    sync_host(host)
    return Instance.objects.get(host=host, uuid=dom.UUIDString())


async def screen_through_proxy(url, origin, cookie):
    async with connect(url, origin, cookie) as ws:
        vnc = VncOverWebsocket(ws)
        width, height, name = await vnc.handshake()
        rects = await vnc.framebuffer_update(width, height)
        return width, height, name, rects, bytes(vnc.received)


def test_it_proxies_a_running_vms_vnc_display(admin_user, lab_host, lab_guests, daphne):
    dom = lab_guests.define()
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    width, height, name, rects, _ = asyncio.run(screen_through_proxy(url, daphne, cookie))
    assert width > 0 and height > 0
    assert name == f"QEMU ({dom.name()})" and rects >= 1
    print(f"ServerInit {width}x{height} '{name}', FramebufferUpdate with {rects} rectangle(s)")


def test_it_does_the_vnc_authentication_itself_and_never_sends_the_password(admin_user, lab_host, lab_guests,
                                                                             daphne, tmp_path):
    dom = define_with_password(lab_guests, tmp_path, PASSWORD)
    assert security_types_offered(vnc_port(dom)) == {2}  # QEMU asks a direct client for VNC authentication
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    width, height, name, rects, received = asyncio.run(screen_through_proxy(url, daphne, cookie))
    assert name == f"QEMU ({dom.name()})" and rects >= 1
    assert PASSWORD.encode() not in received and PASSWORD.encode("utf-16-le") not in received
    # Nor does any page or API answer about the VM carry it.
    client = Client()
    client.force_login(admin_user)
    for path in (f"/instances/{vm.pk}/", f"/instances/{vm.pk}/console/", f"/instances/{vm.pk}/console/serial/",
                 f"/api/instances/{vm.pk}/"):
        response = client.get(path)
        assert response.status_code == 200 and PASSWORD.encode() not in response.content, path


def test_it_says_so_when_the_host_refuses_the_stored_password(admin_user, lab_host, lab_guests, daphne, tmp_path):
    import libvirt_qemu

    dom = define_with_password(lab_guests, tmp_path, PASSWORD)
    # Out of band, QEMU's password changes while the domain XML keeps the old one.
    libvirt_qemu.qemuMonitorCommand(dom, "change vnc password other123",
                                    libvirt_qemu.VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    assert refusal_code(url, daphne, cookie) == Refusal.AUTH_FAILED  # the page maps the code to its message


def test_it_refuses_a_vm_that_is_not_running(admin_user, lab_host, lab_guests, daphne):
    dom = lab_guests.define(start=False)
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm)
    assert refusal_code(url, daphne, cookie) == Refusal.NOT_RUNNING


def test_it_serves_qemus_screenshot_as_png(admin_user, lab_host, lab_guests):
    import io

    from PIL import Image

    dom = lab_guests.define()
    vm = instance_of(lab_host, dom)
    client = Client()
    client.force_login(admin_user)
    response = client.get(f"/instances/{vm.pk}/console/screenshot.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    # Out of band: what libvirt itself hands out (PNG from QEMU 7.2 here; older QEMU sends PPM) has the same size.
    stream = lab_guests.conn.newStream(0)
    mime = dom.screenshot(stream, 0, 0)
    raw = b""
    while chunk := stream.recv(1 << 20):
        raw += chunk
    stream.finish()
    assert mime in ("image/png", "image/x-portable-pixmap")
    with Image.open(io.BytesIO(response.content)) as served, Image.open(io.BytesIO(raw)) as direct:
        assert served.format == "PNG" and served.size == direct.size
        print(f"screenshot {served.size[0]}x{served.size[1]}: libvirt {mime} {len(raw)} bytes, "
              f"served PNG {len(response.content)}")
