"""Console websockets: /ws/instances/{id}/vnc/ (a binary RFB proxy) and /ws/instances/{id}/serial/.

Every connection is accepted, then authorized by its single-use ticket (console.services.authorize)
and, when refused, closed with a code from console.refusals the page explains (a close before the
accept would reach the browser as a bare 1006).
"""
import asyncio
import contextlib
import logging
import socket

import asyncssh

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from virt.console import NoConsole, SerialConsole
from virt.errors import NotFound, OperationInvalid, VirtError

from . import rfb, services, splice, upstream
from .flow import Backpressure, TransportFlow
from .refusals import Refusal, Refused
from .serial_output import SerialOutput

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5  # seconds to reach the VNC server and finish its handshake


def blocking(fn):
    """fn in a worker thread of its own: libvirt and Redis calls must not block the event loop."""
    return sync_to_async(fn, thread_sensitive=False)


async def ssh_connect(route):
    """An SSH connection to the host (services.SshRoute): its key only, the host key checked against the pinned
    one (or ~/.ssh/known_hosts), never unchecked."""
    try:
        return await asyncssh.connect(
            route.hostname, route.port, username=route.username, agent_path=None, password=None,
            client_keys=[asyncssh.import_private_key(route.private_key)] if route.private_key else (),
            known_hosts=asyncssh.import_known_hosts(route.known_hosts) if route.known_hosts else (),
        )
    except (asyncssh.Error, asyncssh.KeyImportError, ValueError) as exc:
        raise Refused(Refusal.UNREACHABLE, f"SSH to {route.hostname}: {exc}") from None


class ConsoleConsumer(AsyncWebsocketConsumer):
    kind = None
    task = None  # the console session, once authorized
    watchdog = None
    # No channel layer: with one, Channels also waits on Redis for every message and the echo latency
    # doubled (bench/console.py); get_channel_layer() gives None for an alias that is not configured.
    # A console notices a logout (or a disabled user) by checking every RECHECK seconds instead.
    channel_layer_alias = "console-needs-no-channel-layer"
    RECHECK = 10

    async def dispatch(self, message):
        # Channels closes stale database connections before every message, a hop to the sync thread each:
        # console bytes (every key press and mouse move) never touch the database.
        if message["type"] == "websocket.receive":
            return await self.websocket_receive(message)
        return await super().dispatch(message)

    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        await self.accept("binary" if "binary" in offered else None)
        try:
            self.instance, self.user = await database_sync_to_async(services.authorize)(self.scope, self.kind)
        except Refused as refused:
            await self.refuse(refused)
            return
        self.prepare()
        self.task = asyncio.create_task(self.session())
        self.watchdog = asyncio.create_task(self.watch_login())

    async def watch_login(self):
        """Close the console once the session that opened it logs out, its user is disabled or loses the grant."""
        session = self.scope.get("session")
        session_key = session.session_key if session is not None else None
        while not self.task.done():
            await asyncio.sleep(self.RECHECK)
            if not await database_sync_to_async(services.still_allowed)(self.user, session_key, self.instance):
                self.task.cancel()
                await self.refuse(Refused(Refusal.NOT_LOGGED_IN, "logged out or disabled"))
                return

    def prepare(self):
        """Set up what receive() needs before the session starts (messages may arrive before it runs)."""

    async def refuse(self, refused):
        log.info("console %s of %s closed: %s %s", self.kind, self.scope["url_route"]["kwargs"].get("pk"),
                 refused.refusal.slug, refused.detail)
        await self.close(code=refused.refusal.value, reason=refused.refusal.slug)

    async def session(self):
        try:
            await self.run()
        except Refused as refused:
            await self.refuse(refused)
        except NoConsole as exc:
            await self.refuse(Refused(Refusal.NO_DISPLAY, exc.message))
        except (NotFound, OperationInvalid) as exc:
            await self.refuse(Refused(Refusal.NOT_RUNNING, exc.message))
        except VirtError as exc:
            await self.refuse(Refused(Refusal.UNREACHABLE, exc.message))
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncssh.Error) as exc:
            await self.refuse(Refused(Refusal.UNREACHABLE, str(exc)))
        except Exception:
            log.exception("console %s of %s failed", self.kind, self.scope["url_route"]["kwargs"].get("pk"))
            # Not 1011: autobahn (daphne) lets an application close with 1000 or 3000-4999 only.
            await self.close(code=Refusal.INTERNAL.value, reason=Refusal.INTERNAL.slug)
        else:
            await self.close(code=1000)

    async def disconnect(self, code):
        for task in (self.task, self.watchdog):
            if task is not None and not task.done():
                task.cancel()


class VncConsumer(ConsoleConsumer):
    kind = "vnc"
    upstream = None  # the VNC server, once both handshakes are done
    pending = None  # what the browser sent before that
    browser = None  # console.splice.BrowserLink: daphne's websocket without ASGI in between
    PENDING_LIMIT = 64 * 1024  # browser bytes held before the handshakes are done (then it is not read)

    async def connect(self):
        # Before the accept, so every frame of the browser takes the one way (in order); nothing goes further
        # than `pending` until the ticket is checked and the VNC server's handshake is done.
        self.pending = bytearray()
        self.arrived = asyncio.Event()
        self.browser = splice.BrowserLink(self.base_send, self.from_browser)
        await super().connect()

    async def run(self):
        target = await blocking(services.vnc_target)(self.instance)
        async with contextlib.AsyncExitStack() as stack:
            server = await asyncio.wait_for(self.open(target, stack), CONNECT_TIMEOUT)
            await self.proxy(server, target)

    async def proxy(self, server, target):
        try:
            async def write_server(data):
                server.write(data)
                await server.drain()

            await asyncio.wait_for(rfb.authenticate_to_server(server.readexactly, write_server, target.password),
                                   CONNECT_TIMEOUT)
            await rfb.greet_browser(self.read_browser, self.send_browser)
            # From here on, bytes pass through: what the browser sent meanwhile first.
            server.write(bytes(self.pending))
            self.pending = None
            self.upstream = server
            flow = None
            if self.browser.active:  # Twisted's transport tells when its buffer fills and empties
                flow = TransportFlow(self.browser.transport, server.pause_reading, server.resume_reading,
                                     high_water=splice.HIGH_WATER)
            if flow is not None and flow.active:
                await self.splice(server, flow)
            else:
                await self.relay(server)
        finally:
            self.upstream = None
            server.close()

    async def splice(self, server, flow):
        """Under daphne: bytes pass in callbacks both ways (console.splice) until either side closes."""
        server.forward_to(self.browser.send, self.browser.pause_reading, self.browser.resume_reading)
        self.browser.resume_reading()  # if `pending` had filled up
        try:
            await server.ended
        finally:
            flow.close()
            self.browser.close()

    async def relay(self, server):
        """Elsewhere (the tests' communicator): each read from the VNC server as one ASGI message."""
        backpressure = Backpressure(self.base_send)
        try:
            while True:
                await backpressure.wait()  # the browser took what was sent: read what piled up meanwhile
                data = await server.read_some()
                if not data:
                    break
                await self.send(bytes_data=data)
        finally:
            backpressure.close()

    @staticmethod
    async def open(target, stack):
        """The connection to the VNC server (console.upstream); an SSH connection it needs is closed by `stack`."""
        if target.ssh:
            ssh = await stack.enter_async_context(await ssh_connect(target.ssh))
            if target.socket:
                return await upstream.open_ssh_unix(ssh, target.socket)
            return await upstream.open_ssh_tcp(ssh, target.address, target.port)
        if target.socket:
            return await upstream.open_unix(target.socket)
        server = await upstream.open_tcp(target.address, target.port)
        server.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return server

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:  # RFB is binary; text frames carry nothing for it
            self.from_browser(bytes_data)

    def from_browser(self, data):
        if self.upstream is not None:
            self.upstream.write(data)
        elif self.pending is not None:
            self.pending += data
            self.arrived.set()
            if len(self.pending) > self.PENDING_LIMIT and self.browser.active:
                self.browser.pause_reading()

    async def read_browser(self, count):
        while len(self.pending) < count:
            self.arrived.clear()
            await self.arrived.wait()
        data = bytes(self.pending[:count])
        del self.pending[:count]
        if len(self.pending) <= self.PENDING_LIMIT and self.browser.active:
            self.browser.resume_reading()
        return data

    async def send_browser(self, data):
        await self.send(bytes_data=data)

    async def refuse(self, refused):
        if self.browser is not None:
            self.browser.close()  # read the browser again (`pending` may have filled): its close frame must come in
        await super().refuse(refused)

    async def disconnect(self, code):
        if self.browser is not None:
            self.browser.close()
        await super().disconnect(code)


class SerialConsumer(ConsoleConsumer):
    """Bytes both ways between the browser's terminal and the guest's serial console (binary frames;
    text frames from the browser are sent as UTF-8)."""

    kind = "serial"

    def prepare(self):
        loop = asyncio.get_running_loop()
        self.received = SerialOutput()

        def deliver(data):  # on libvirt's event loop thread
            try:
                loop.call_soon_threadsafe(self.received.put, data)
            except RuntimeError:
                self.console.close()  # the websocket's loop is gone

        self.console = SerialConsole(str(self.instance.uuid), deliver)

    async def run(self):
        running = asyncio.ensure_future(blocking(services.serial_session)(self.instance, self.console))
        backpressure = Backpressure(self.base_send)
        try:
            while True:
                await backpressure.wait()
                getting = asyncio.ensure_future(self.received.get())
                done, _ = await asyncio.wait({getting, running}, return_when=asyncio.FIRST_COMPLETED)
                if getting in done:  # all that arrived meanwhile, in one message
                    await self.send(bytes_data=getting.result())
                    continue
                getting.cancel()
                running.result()  # raises what ended it (VirtError: the host or the VM)
                return
        finally:
            backpressure.close()
            self.console.close()  # its thread returns, and its connection closes

    async def receive(self, text_data=None, bytes_data=None):
        data = bytes_data if bytes_data is not None else (text_data or "").encode()
        console = getattr(self, "console", None)
        if data and console is not None:
            await blocking(console.write)(data)  # waits for the console to open: nothing typed is lost
