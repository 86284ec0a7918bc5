"""libvirtError translated once, here, into virtdeck's own exceptions.

Callers above virt/ catch VirtError subclasses only; each carries libvirt's
own message so the UI and API can show it, with two exceptions: paths of
virtdeck's private files (keys, certificates) are replaced by a placeholder,
and errors about a test-driver node file say only that it is not a valid
node file (libvirt quotes lines of a file it cannot parse).
"""
import re
import time

import libvirt

from .i18n import _, gettext_noop


class VirtError(Exception):
    """Base of every error virt/ raises. `message` is safe to show to users."""

    def __init__(self, message, code=None, observed_at=None):
        super().__init__(message)
        self.message = message
        self.code = code
        # When the failure was seen (wall clock): a pool in backoff raises an older failure again.
        self.observed_at = time.time() if observed_at is None else observed_at


class HostUnreachable(VirtError):
    """The host could not be reached, the connection broke, or a call timed out."""


class NotFound(VirtError):
    """The domain, network, pool or volume does not exist."""


class InvalidConfig(VirtError):
    """libvirt rejected XML or arguments: the user's input is at fault."""


class InvalidValue(InvalidConfig):
    """One argument is at fault: `field` names it (the parameter's name), so a form or API can point at it."""

    def __init__(self, field, message, code=None):
        super().__init__(message, code=code)
        self.field = field


class OperationInvalid(VirtError):
    """The object is in the wrong state for the operation (e.g. starting a running VM)."""


class URIError(InvalidConfig, ValueError):
    """virtdeck refuses the URI (its scheme, a parameter, a test-driver node file...); the message says why.

    A VirtError too: a stored host whose URI today's settings refuse fails like any host that cannot be
    reached, once, wherever it is used (sync, watcher, jobs, API).
    """


class AuthFailed(HostUnreachable):
    """The host refused our credentials."""


class Unsupported(VirtError):
    """The host's driver does not support this operation."""


class OperationFailed(VirtError):
    """Anything else libvirt reported."""


_NOT_FOUND = {
    libvirt.VIR_ERR_NO_DOMAIN,
    libvirt.VIR_ERR_NO_NETWORK,
    libvirt.VIR_ERR_NO_STORAGE_POOL,
    libvirt.VIR_ERR_NO_STORAGE_VOL,
    libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT,
    libvirt.VIR_ERR_NO_INTERFACE,
    libvirt.VIR_ERR_NO_NODE_DEVICE,
    libvirt.VIR_ERR_NO_SECRET,
}
_INVALID = {
    libvirt.VIR_ERR_XML_ERROR,
    libvirt.VIR_ERR_XML_DETAIL,
    libvirt.VIR_ERR_INVALID_ARG,
    libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
    libvirt.VIR_ERR_INVALID_NETWORK,
    libvirt.VIR_ERR_INVALID_STORAGE_POOL,
    libvirt.VIR_ERR_INVALID_STORAGE_VOL,
    libvirt.VIR_ERR_DOM_EXIST,
    libvirt.VIR_ERR_NETWORK_EXIST,
    libvirt.VIR_ERR_STORAGE_VOL_EXIST,
    libvirt.VIR_ERR_XML_INVALID_SCHEMA,
}
_UNREACHABLE = {
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_SSH,
    libvirt.VIR_ERR_LIBSSH,
}
# errno-based failures: "connection refused" while opening, "no such file" afterwards.
_UNREACHABLE_WHEN_OPENING = {libvirt.VIR_ERR_SYSTEM_ERROR}
_AUTH = {libvirt.VIR_ERR_AUTH_FAILED, libvirt.VIR_ERR_AUTH_CANCELLED, libvirt.VIR_ERR_AUTH_UNAVAILABLE}
_STATE = {libvirt.VIR_ERR_OPERATION_INVALID}
_UNSUPPORTED = {libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED}
# Subsystems whose errors, while a connection opens, can only come from the test driver loading its node
# file (only that driver parses configuration at open): they may quote the file's lines or values.
_NODE_FILE_SOURCES = {
    libvirt.VIR_FROM_TEST,
    libvirt.VIR_FROM_XML,
    libvirt.VIR_FROM_DOMAIN,
    libvirt.VIR_FROM_DOMAIN_SNAPSHOT,
    libvirt.VIR_FROM_NETWORK,
    libvirt.VIR_FROM_INTERFACE,
    libvirt.VIR_FROM_STORAGE,
    libvirt.VIR_FROM_NODEDEV,
    libvirt.VIR_FROM_CPU,
    libvirt.VIR_FROM_CAPABILITIES,
}
NODE_FILE_INVALID = gettext_noop("libvirt's test driver could not load the node file: it is not a valid node file.")


# Directories of files virtdeck writes for libvirt (directory -> placeholder). virt/ reads no settings:
# the application names them once (hosts.apps).
_private_dirs = {}


def hide_paths_under(directory, placeholder):
    """Never show paths under `directory` in messages: `placeholder` stands for it and its first level."""
    _private_dirs[str(directory).rstrip("/")] = placeholder


def scrub(message):
    """`message` without private paths: /state/credentials/<digest>/cacert.pem -> [credentials]/cacert.pem."""
    for directory, placeholder in _private_dirs.items():
        message = re.sub(re.escape(directory) + r"/[^/\s'\"]+", lambda _m, p=placeholder: p, message)
    return message


def translate(error, opening=False):
    """Map a libvirtError to the matching VirtError (returned, not raised).

    `opening`: the error came from opening the connection, where a system error
    (refused, no route) means the host cannot be reached.
    """
    code = error.get_error_code()
    if opening and code not in _AUTH and error.get_error_domain() in _NODE_FILE_SOURCES:
        return InvalidConfig(_(NODE_FILE_INVALID), code=code)
    message = scrub(str(error) or error.get_error_message() or _("libvirt error"))
    if code in _NOT_FOUND:
        cls = NotFound
    elif code in _INVALID:
        cls = InvalidConfig
    elif code in _AUTH:
        cls = AuthFailed
    elif code in _UNREACHABLE or (opening and code in _UNREACHABLE_WHEN_OPENING):
        cls = HostUnreachable
    elif code in _STATE:
        cls = OperationInvalid
    elif code in _UNSUPPORTED:
        cls = Unsupported
    else:
        cls = OperationFailed
    return cls(message, code=code)
