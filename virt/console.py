"""A VM's consoles as libvirt describes them: the VNC endpoint in its live XML, its screenshot, and its
serial console stream. Functions take a connection (inside a pool call) and return plain data.
"""
import ipaddress
import threading
from dataclasses import dataclass, field

import libvirt

from .domain import Domain
from .errors import OperationInvalid, VirtError
from .xml.domain import DomainXML
from .i18n import _

# Pieces a screenshot or a serial console is read in.
CHUNK = 256 * 1024


class NoConsole(VirtError):
    """The VM has no console of the kind asked for."""


@dataclass(frozen=True)
class VncEndpoint:
    """Where QEMU's VNC server of a running VM listens, on its host. `password` is a secret: not in repr."""

    listen: str | None = None  # an address on the host; None: QEMU's default (loopback)
    port: int | None = None
    socket: str | None = None  # a unix socket path on the host, instead of listen/port
    password: str | None = field(default=None, repr=False)

    @property
    def listens_on_loopback_only(self):
        if self.socket:
            return True
        try:
            return ipaddress.ip_address(self.listen or "127.0.0.1").is_loopback
        except ValueError:
            return self.listen == "localhost"

    @property
    def listens_everywhere(self):
        return self.listen in ("0.0.0.0", "::")  # nosec B104 - reads a VM's listen address, binds nothing


def vnc_endpoint(xml_text):
    """The first VNC display of a live domain XML (read it with secure=True for the password), or None.

    A display whose port is not assigned yet (autoport on a VM that is not running) counts as none.
    """
    for graphics in DomainXML.from_xml(xml_text, trusted=True).graphics:
        if graphics.type != "vnc":
            continue
        element = graphics.element
        socket = element.get("socket")
        for listen in element.iterchildren("listen"):
            if listen.get("type") == "socket" and listen.get("socket"):
                socket = socket or listen.get("socket")
        port = graphics.port
        if not socket and (port is None or port <= 0):
            return None
        return VncEndpoint(listen=graphics.listen, port=None if socket else port, socket=socket,
                           password=graphics.passwd or None)
    return None


def read_vnc_endpoint(conn, uuid):
    """(running, VncEndpoint or None) of the VM, from its live XML with passwords (one lookup, two RPCs)."""
    dom = Domain.lookup(conn, uuid)
    if not dom.is_active():
        return False, None
    return True, vnc_endpoint(dom.xml_desc(secure=True))


def screenshot(conn, uuid, screen=0):
    """The VM's screen as libvirt's screenshot stream gives it: (mime type, bytes); QEMU sends a PPM."""
    dom = conn.lookupByUUIDString(uuid)
    if not dom.isActive():
        raise OperationInvalid(_("The VM is not running."))
    stream = conn.newStream(0)
    try:
        mime = dom.screenshot(stream, screen, 0)
        parts = []
        while True:
            data = stream.recv(CHUNK)
            if isinstance(data, int):
                raise RuntimeError(f"libvirt stream returned {data}")
            if not data:
                break
            parts.append(data)
        stream.finish()
    except BaseException:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise
    return mime, b"".join(parts)


class SerialConsole:
    """The VM's serial console over libvirt's console stream (openConsole): works over every transport.

    run(conn) blocks until close() or the guest side hangs up; it opens the console on `conn` (use a
    connection of its own: Pool.run_long) with FORCE, so a console left open elsewhere is taken over.
    Bytes from the guest go to on_data(bytes) from libvirt's event loop thread; write() may be called
    from any thread once `opened` is set.
    """

    def __init__(self, uuid, on_data):
        self.uuid = uuid
        self.on_data = on_data
        self.opened = threading.Event()
        self._done = threading.Event()
        self._stream = None
        self._lock = threading.Lock()

    def run(self, conn):
        try:
            self._run(conn)
        finally:
            self._done.set()

    def _run(self, conn):
        dom = conn.lookupByUUIDString(self.uuid)
        if not dom.isActive():
            raise OperationInvalid(_("The VM is not running."))
        devices = DomainXML.from_xml(dom.XMLDesc(0), trusted=True).element.find("devices")
        if devices is None or (devices.find("console") is None and devices.find("serial") is None):
            raise NoConsole(_("The VM has no serial console."))
        stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        self._stream = stream
        stream.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR
                                | libvirt.VIR_STREAM_EVENT_HANGUP, self._readable, None)
        self.opened.set()
        try:
            self._done.wait()
        finally:
            with self._lock:
                self._stream = None
                for step in (stream.eventRemoveCallback, stream.abort):
                    try:
                        step()
                    except libvirt.libvirtError:
                        pass  # already gone with the guest or the connection

    def _readable(self, stream, events, _opaque):
        if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
            self.close()
            return
        try:
            data = stream.recv(CHUNK)
        except libvirt.libvirtError:
            self.close()
            return
        if data == -2:  # nothing after all (non-blocking)
            return
        if not data:  # end of stream: the guest's side closed
            self.close()
            return
        self.on_data(data)

    def write(self, data):
        """Send bytes to the guest, once the console is open. Returns False if it closed (or never opened)."""
        while not self.opened.wait(0.05):
            if self._done.is_set():
                return False
        view = memoryview(data)
        with self._lock:
            if self._stream is None:
                return False
            while view:
                try:
                    sent = self._stream.send(view.tobytes())
                except libvirt.libvirtError:
                    self.close()  # the stream broke (the guest or the connection went): the session ends
                    return False
                if sent == -2:  # would block: the console's small buffer is full; let it drain
                    if self._done.wait(0.01):
                        return False
                    continue
                view = view[sent:]
        return True

    def close(self):
        self._done.set()

    @property
    def closed(self):
        return self._done.is_set()
