"""Console actions shared by the page, the API and the websocket consumers."""
import getpass
import io
from dataclasses import dataclass, field
from importlib import import_module
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from PIL import Image

from core.permissions import restrict
from hosts.connection import call, connection_spec, pool
from hosts.models import libvirt_host_uri
from instances.models import Instance
from virt import console as virt_console
from virt.errors import NotFound, VirtError

from . import tickets
from .refusals import Refusal, Refused

WS_PATHS = {"vnc": "/ws/instances/{pk}/vnc/", "serial": "/ws/instances/{pk}/serial/"}


def issue_ticket(user, instance, kind):
    """{"ticket", "ws_path", "expires_in"}: what a page or a script needs to open the console once.

    The websocket carries the ticket as ?ticket= on ws_path.
    """
    ticket, lifetime = tickets.issue(user, instance, kind)
    return {"ticket": ticket, "ws_path": WS_PATHS[kind].format(pk=instance.pk), "expires_in": lifetime}


def authorize(scope, kind):
    """(instance, user) for a console websocket's handshake scope, or Refused saying why not.

    The ticket is redeemed first, so one presented with the wrong VM or kind is spent all the same.
    If the websocket also carries a session, its user must be the ticket's.
    """
    session_user = scope.get("user")
    logged_in = session_user is not None and session_user.is_authenticated
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket") or [""]
    if not values[0]:
        raise Refused(Refusal.NO_TICKET if logged_in else Refusal.NOT_LOGGED_IN)
    ticket = tickets.redeem(values[0])
    if logged_in and session_user.pk != ticket.user_id:
        raise Refused(Refusal.OTHER_USER)
    user = get_user_model().objects.filter(pk=ticket.user_id, is_active=True).first()
    if user is None:
        raise Refused(Refusal.NOT_LOGGED_IN)
    if ticket.instance_id != scope["url_route"]["kwargs"]["pk"]:
        raise Refused(Refusal.OTHER_VM)
    if ticket.kind != kind:
        raise Refused(Refusal.OTHER_KIND)
    instances = restrict(Instance.objects.select_related("host"), user, "console")
    instance = instances.filter(pk=ticket.instance_id).first()
    if instance is None:
        raise Refused(Refusal.OTHER_VM, "the VM is gone or out of the user's reach")
    return instance, user


def still_allowed(user, session_key, instance=None):
    """Whether a console opened by `user` (from the login session `session_key`, if any) may stay open:
    the user is active, still holds the console grant on `instance` and, for a browser, that session still
    logs that user in (a logout flushes it)."""
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()  # roles as of now
    if fresh is None:
        return False
    if instance is not None and not restrict(Instance.objects.filter(pk=instance.pk), fresh, "console").exists():
        return False
    if session_key is None:
        return True
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key).get(SESSION_KEY) == str(user.pk)


@dataclass(frozen=True)
class SshRoute:
    """An SSH connection to the host, for a tunnel (direct-tcpip or direct-streamlocal) to its VNC server."""

    hostname: str
    port: int
    username: str
    private_key: str = field(default="", repr=False)
    known_hosts: str = ""  # the host's pinned key; empty: ~/.ssh/known_hosts of the user virtdeck runs as


@dataclass(frozen=True)
class VncTarget:
    """Where the proxy connects: a TCP address or a unix socket, on this machine or (with `ssh`) on the host."""

    address: str | None = None
    port: int | None = None
    socket: str | None = None
    password: str | None = field(default=None, repr=False)
    ssh: SshRoute | None = None


def vnc_target(instance):
    """Where to reach the VM's VNC server from here, read from its live XML (with its password).

    Refused: NOT_RUNNING, NO_DISPLAY, UNREACHABLE (the host, or a display only the host itself can reach).
    """
    try:
        running, endpoint = call(instance.host, lambda conn: virt_console.read_vnc_endpoint(conn, str(instance.uuid)))
    except NotFound:
        raise Refused(Refusal.NOT_RUNNING, "the VM is no longer on its host") from None
    except VirtError as exc:
        raise Refused(Refusal.UNREACHABLE, exc.message) from None
    if not running:
        raise Refused(Refusal.NOT_RUNNING)
    if endpoint is None:
        raise Refused(Refusal.NO_DISPLAY)
    return target_of(endpoint, libvirt_host_uri(instance.host.uri), instance.host)


def target_of(endpoint, host_uri, host=None):
    """Where this machine reaches a VNC endpoint of a host (virt.uri.HostURI): directly, or through an SSH
    tunnel when the display listens on the loopback of a host reached over SSH (with `host`'s SSH key and
    pinned host key). Refused(UNREACHABLE) for a display only the host itself can reach."""
    # An SSH host's loopback is always reached through SSH: its address may be a port forwarded to another
    # machine (even 127.0.0.1:2222), so its 127.0.0.1 need not be ours.
    if endpoint.listens_on_loopback_only and host_uri.is_ssh:
        route = SshRoute(hostname=host_uri.hostname or "localhost", port=host_uri.port or 22,
                         username=host_uri.username or getpass.getuser(),
                         private_key=getattr(host, "ssh_private_key", ""),
                         known_hosts=getattr(host, "ssh_known_hosts", ""))
        return VncTarget(address=None if endpoint.socket else endpoint.listen or "127.0.0.1", port=endpoint.port,
                         socket=endpoint.socket, password=endpoint.password, ssh=route)
    if endpoint.listens_on_loopback_only and not host_uri.on_this_machine:
        raise Refused(Refusal.UNREACHABLE, f"VNC listens on the loopback of {host_uri.hostname} only")
    if endpoint.socket:
        return VncTarget(socket=endpoint.socket, password=endpoint.password)
    if endpoint.listens_everywhere:
        address = host_uri.hostname or "127.0.0.1"
    else:
        address = endpoint.listen or "127.0.0.1"
    return VncTarget(address=address, port=endpoint.port, password=endpoint.password)


def screenshot_png(instance):
    """The VM's screen now, as PNG bytes (libvirt's screenshot stream: PNG from QEMU >= 7.1, else PPM)."""
    return as_png(*call(instance.host, lambda conn: virt_console.screenshot(conn, str(instance.uuid))))


def as_png(mime, data):
    """Screenshot bytes of type `mime` as PNG (PNG passes through; PPM and the rest are converted)."""
    if mime == "image/png":
        return data
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.save(out, format="PNG")
    return out.getvalue()


def serial_session(instance, console):
    """Run `console` (virt.console.SerialConsole) on a connection of its own until it is closed or the guest
    side hangs up; blocks. The host's shared connection keeps serving short calls meanwhile."""
    pool().run_long(connection_spec(instance.host), console.run)
