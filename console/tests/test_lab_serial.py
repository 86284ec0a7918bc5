"""The serial console through daphne, over libvirt's console stream, with a real QEMU guest (lab, TCG)
running a boot sector that echoes COM1 (console/tests/serial_echo.S)."""
import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest
from lxml import etree

from console.refusals import Refusal
from lab import guest

from .test_lab_vnc import daphne, instance_of, open_console  # noqa: F401 - fixtures
from .vnc_client import connect, refusal_code

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
SOURCE = Path(__file__).with_name("serial_echo.S")


def boot_disk(directory):
    """A raw disk whose boot sector is serial_echo.S, assembled now."""
    obj, disk = directory / "echo.o", directory / "echo.img"
    subprocess.run(["as", "--32", "-o", str(obj), str(SOURCE)], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", str(disk), str(obj)],
                   check=True)
    assert disk.stat().st_size == 512
    with open(disk, "r+b") as f:
        f.truncate(1024 * 1024)
    return disk


def define_with_serial(lab_guests, tmp_path):
    """A running lab guest (lab/guest.py's XML) booting the echo sector, with a pty serial port as its console."""
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    dom_xml = etree.fromstring(guest.domain_xml(name, boot_disk(tmp_path)))
    dom_xml.find("devices/disk/driver").set("type", "raw")
    devices = dom_xml.find("devices")
    serial = etree.SubElement(devices, "serial", type="pty")
    etree.SubElement(serial, "target", port="0")
    console = etree.SubElement(devices, "console", type="pty")
    etree.SubElement(console, "target", type="serial", port="0")
    dom = lab_guests.conn.defineXML(etree.tostring(dom_xml, encoding="unicode"))
    lab_guests.made.append(dom)
    dom.create()
    return dom


async def exchange(url, origin, cookie, text):
    """Send `text` through the serial websocket; return what came back once the echo of all of it has."""
    async with connect(url, origin, cookie) as ws:
        await ws.send(text.encode())
        received = b""
        expected = text.swapcase().encode()
        while expected not in received:
            received += await asyncio.wait_for(ws.recv(), 30)
        return received


def test_it_exchanges_bytes_with_the_guests_serial_port(admin_user, lab_host, lab_guests, daphne, tmp_path):
    dom = define_with_serial(lab_guests, tmp_path)
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm, kind="serial")
    received = asyncio.run(exchange(url, daphne, cookie, "helloVirtdeck"))  # letters only: the echo flips bit 5
    assert b"HELLOvIRTDECK" in received
    # The stream closed with the websocket: a second session opens the console again.
    url, cookie = open_console(daphne, admin_user, vm, kind="serial")
    assert b"AGAIN" in asyncio.run(exchange(url, daphne, cookie, "again"))


def test_it_says_a_vm_without_a_serial_console_has_none(admin_user, lab_host, lab_guests, daphne):
    dom = lab_guests.define()
    vm = instance_of(lab_host, dom)
    url, cookie = open_console(daphne, admin_user, vm, kind="serial")
    assert refusal_code(url, daphne, cookie) == Refusal.NO_DISPLAY
