"""libvirt URI validation and building. Pure: no libvirt calls.

A libvirt URI can make the client run programs or open arbitrary sockets
(`command=`, `netcat=`, `socket=`, `proxy=`...). virtdeck accepts only the
schemes and query parameters listed here; credentials (SSH key, known_hosts,
TLS certificates) come from the host's credential fields and are added to
the URI by `build()`, never typed into it.

libvirt's test driver is accepted only when the deployment allows it, and a
node file it names only after virt.testnode has checked it.
"""
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import testnode
from .errors import URIError
from .i18n import _, gettext_noop

__all__ = ["HostURI", "URIError", "parse"]

# Names of the transports, shown translated (hosts.models.Host.transport).
SCHEMES = {
    "qemu": gettext_noop("local socket"),
    "qemu+unix": gettext_noop("local socket"),
    "qemu+tcp": gettext_noop("TCP (plain, or SASL with Kerberos)"),
    "qemu+tls": gettext_noop("TLS"),
    "qemu+ssh": gettext_noop("SSH (OpenSSH client)"),
    "qemu+libssh": gettext_noop("SSH (libssh)"),
    "test": gettext_noop("libvirt test driver (in-process)"),
    "test+tcp": gettext_noop("libvirt test driver over TCP"),
    "test+unix": gettext_noop("libvirt test driver over the local socket"),
}
REMOTE_SCHEMES = {"qemu+tcp", "qemu+tls", "qemu+ssh", "qemu+libssh", "test+tcp"}
SSH_SCHEMES = {"qemu+ssh", "qemu+libssh"}
# Query parameters a user may write; everything else is refused.
USER_PARAMS = {"no_tty", "sshauth", "known_hosts_verify", "no_verify", "tls_priority"}
# Parameters virtdeck itself adds from the credential fields.
MANAGED_PARAMS = {"keyfile", "known_hosts", "pkipath"}
# qemu:///session would spawn a libvirt daemon as the web user, with access to virtdeck's own files.
QEMU_PATHS = {"/system"}


# Host names and user names go on an ssh command line: letters, digits, '.', '_', '-'
# (never leading '-', which ssh would read as an option), or an IPv6 literal.
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9._-]{1,253}$|^[0-9A-Fa-f:.]+$")
_USERNAME = re.compile(r"^(?!-)[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class HostURI:
    scheme: str
    hostname: str = ""
    port: int | None = None
    username: str = ""
    path: str = ""
    params: dict = field(default_factory=dict)

    @property
    def is_remote(self):
        return self.scheme in REMOTE_SCHEMES

    @property
    def is_ssh(self):
        return self.scheme in SSH_SCHEMES

    @property
    def is_test(self):
        return self.scheme.startswith("test")

    @property
    def node_file(self):
        """The node XML file a test-driver URI names ('' for /default and for other drivers)."""
        return self.path if self.is_test and self.path != "/default" else ""

    @property
    def on_this_machine(self):
        """Whether the URI reaches this machine (a local socket, a loopback address or localhost)."""
        if not self.hostname:
            return True
        try:
            return ipaddress.ip_address(self.hostname).is_loopback
        except ValueError:
            return self.hostname == "localhost"

    @property
    def has_shell(self):
        """Whether virtdeck can run host-side tools there (SSH or this machine)."""
        return self.is_ssh or self.scheme in ("qemu", "qemu+unix")

    def build(self, managed=None):
        """The URI string, with managed parameters (keyfile=...) added."""
        netloc = ""
        if self.hostname:
            netloc = self.hostname if ":" not in self.hostname else f"[{self.hostname}]"
            if self.username:
                netloc = f"{self.username}@{netloc}"
            if self.port:
                netloc = f"{netloc}:{self.port}"
        params = dict(self.params)
        params.update(managed or {})
        query = urlencode(sorted(params.items()), safe="/")
        # urlunsplit would drop the '//' of schemes it does not know (test:///default).
        return f"{self.scheme}://{netloc}{self.path or '/'}" + (f"?{query}" if query else "")

    def __str__(self):
        return self.build()


def _test_path_allowed(path, test_node_dirs):
    """/default, or a node XML file inside one of the allowed directories."""
    if path == "/default":
        return True
    if not path.endswith(".xml"):
        return False
    node = PurePosixPath(path)
    if ".." in node.parts or not node.is_absolute():
        return False
    return any(PurePosixPath(d) in node.parents for d in test_node_dirs)


def parse(uri, test_node_dirs=(), allow_test_driver=False):
    """Validate `uri` and return a HostURI, or raise URIError with the reason.

    Test-driver URIs are refused unless `allow_test_driver`. libvirt's test driver reads
    the node XML file a test URI names (and quotes it in its errors): only files that
    virt.testnode accepts, under `test_node_dirs`, are.
    """
    uri = (uri or "").strip()
    if not uri:
        raise URIError(_("A libvirt URI is required, e.g. qemu+tcp://kvm1.example.org/system."))
    if any(ch.isspace() for ch in uri) or "\x00" in uri:
        raise URIError(_("The URI must not contain whitespace."))
    try:
        parts = urlsplit(uri)
        parts.hostname  # noqa: B018 - urlsplit checks [bracketed] hosts only when asked
    except ValueError as exc:
        raise URIError(_("Malformed URI: {exc}.").format(exc=exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        allowed = ", ".join(sorted(SCHEMES))
        raise URIError(_("Unsupported URI scheme '{scheme}'. Use one of: {allowed}.")
                       .format(scheme=parts.scheme, allowed=allowed))
    if scheme.startswith("test") and not allow_test_driver:
        raise URIError(
            _("libvirt's test driver (test://, test+tcp://, test+unix://) is turned off on this server; it "
              "serves demos and tests, and is allowed by the setting VIRTDECK_ALLOW_TEST_DRIVER.")
        )
    if parts.fragment:
        raise URIError(_("The URI must not have a fragment (#...)."))
    try:
        port = parts.port
    except ValueError as exc:
        raise URIError(_("Invalid port: {exc}.").format(exc=exc)) from None
    if parts.password is not None:
        raise URIError(_("Do not put a password in the URI; use the password field."))
    params = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key in MANAGED_PARAMS:
            raise URIError(
                _("Query parameter '{key}' is set by virtdeck from the credential fields; paste the key or "
                  "certificate there instead.").format(key=key)
            )
        if key not in USER_PARAMS:
            raise URIError(
                _("Query parameter '{key}' is not allowed (it could run programs or open arbitrary sockets). "
                  "Allowed: {allowed}.")
                .format(key=key, allowed=', '.join(sorted(USER_PARAMS)))
            )
        params[key] = value

    hostname = parts.hostname or ""
    username = parts.username or ""
    if hostname and not _HOSTNAME.match(hostname):
        raise URIError(_("Invalid host name '{hostname}'.").format(hostname=hostname))
    if username and not _USERNAME.match(username):
        raise URIError(_("Invalid user name '{username}'.").format(username=username))
    path = parts.path or ""
    if scheme in REMOTE_SCHEMES and not hostname:
        raise URIError(_("A {scheme}:// URI needs a host name, e.g. {scheme}://kvm1.example.org/system.")
                       .format(scheme=scheme))
    if scheme in ("qemu", "qemu+unix", "test", "test+unix") and hostname:
        raise URIError(_("A {scheme}:// URI is local and takes no host name ({scheme}:///...).")
                       .format(scheme=scheme))
    if "%" in path:
        raise URIError(_("The URI path must not be percent-encoded."))
    if scheme.startswith("qemu") and path not in QEMU_PATHS:
        raise URIError(_("A qemu URI path must be /system."))
    if scheme.startswith("test") and not _test_path_allowed(path, test_node_dirs):
        allowed = ", ".join(str(d) for d in test_node_dirs) or "none configured"
        raise URIError(
            _("A test driver URI path must be /default or a node XML file in an allowed directory "
              "(VIRTDECK_TEST_NODE_DIRS: {allowed}).").format(allowed=allowed)
        )
    parsed = HostURI(
        scheme=scheme,
        hostname=hostname,
        port=port,
        username=username,
        path=path,
        params=params,
    )
    if parsed.node_file:
        if not parsed.on_this_machine:
            raise URIError(
                _("A test driver node file is checked on this machine before libvirt reads it: a test+tcp URI "
                  "with a node file must name this machine (127.0.0.1, ::1 or localhost).")
            )
        testnode.read(parsed.node_file, test_node_dirs)
    return parsed
