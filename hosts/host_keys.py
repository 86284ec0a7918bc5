"""SSH host keys and virtdeck's SSH key pairs, with asyncssh (no ssh-keyscan, no shell).

- `fetch()` asks the host for its key, for an admin to compare its fingerprint before it is pinned.
- `offer_token()` / `offered_from_token()` carry the key the admin saw through the form, signed, so what
  gets pinned is exactly what was shown.
- `changed_key()` tells a pinned key that the host no longer offers: virtdeck refuses the host, naming the old
  and new fingerprints, until an admin accepts the new one (`pin()`).
- `generate_key_pair()` makes an Ed25519 key pair for virtdeck to log in with.
"""
import asyncio
import concurrent.futures
from dataclasses import dataclass

import asyncssh
from django.core import signing
from django.utils.translation import gettext as _

from core import crypto
from virt.errors import HostUnreachable, InvalidValue, URIError

from .models import parse_host_uri

FETCH_TIMEOUT = 10  # seconds
OFFER_MAX_AGE = 3600  # seconds an admin has between seeing a key and pinning it
_SALT = "hosts.host_keys.offer"


class HostKeyChanged(HostUnreachable):
    """The host offers another key than the pinned one: refused until an admin accepts it."""

    def __init__(self, hostname, pinned, offered):
        self.pinned, self.offered = pinned, offered
        super().__init__(_(
            "The SSH host key of %(host)s has changed: virtdeck pinned %(old)s, the host now offers %(new)s "
            "(%(algorithm)s). virtdeck refuses to connect until an admin checks the new key and accepts it."
        ) % {"host": hostname, "old": ", ".join(pinned) or _("nothing"), "new": offered.fingerprint,
             "algorithm": offered.algorithm})


@dataclass(frozen=True)
class OfferedKey:
    """A host key as the host presented it, and the known_hosts line that pins it."""

    known_hosts_name: str
    algorithm: str
    public_key: str  # base64, as in known_hosts
    fingerprint: str  # SHA256:...

    @property
    def line(self):
        return f"{self.known_hosts_name} {self.algorithm} {self.public_key}"


def known_hosts_name(hostname, port=None):
    """How known_hosts (and ssh) names a host: [host]:port for a port other than 22."""
    return hostname if port in (None, 22) else f"[{hostname}]:{port}"


def ssh_target(uri):
    """(hostname, port) of an SSH host URI; InvalidValue naming the URI field otherwise."""
    try:
        parsed = parse_host_uri(uri)
    except URIError as exc:
        raise InvalidValue("uri", exc.message) from None
    if not parsed.is_ssh:
        raise InvalidValue("uri", _("Only an SSH host (qemu+ssh:// or qemu+libssh://) has an SSH host key."))
    return parsed.hostname, parsed.port


def _offered(key, hostname, port):
    algorithm, public_key = key.export_public_key("openssh").decode().split()[:2]
    return OfferedKey(known_hosts_name(hostname, port), algorithm, public_key, key.get_fingerprint("sha256"))


def _run(coroutine):
    """Run a coroutine to its end from sync code, also where this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def fetch(hostname, port=None):
    """The key the SSH server at hostname:port offers; HostUnreachable with the reason if it cannot be had."""
    async def ask():
        return await asyncio.wait_for(
            asyncssh.get_server_host_key(hostname, port or 22, config=None),  # no ~/.ssh/config: no proxy
            FETCH_TIMEOUT)
    try:
        key = _run(ask())
    except (OSError, asyncssh.Error, asyncio.TimeoutError) as exc:
        reason = str(exc) or exc.__class__.__name__
        raise HostUnreachable(_("Could not fetch the SSH host key of %(host)s: %(reason)s")
                              % {"host": known_hosts_name(hostname, port), "reason": reason}) from None
    if key is None:
        raise HostUnreachable(_("%(host)s offered no SSH host key.") % {"host": known_hosts_name(hostname, port)})
    return _offered(key, hostname, port)


def fetch_for_uri(uri):
    return fetch(*ssh_target(uri))


def pinned_fingerprints(known_hosts, hostname, port=None):
    """SHA256 fingerprints of the keys `known_hosts` trusts for the host (hashed names included)."""
    try:
        trusted = asyncssh.import_known_hosts(known_hosts or "").match(hostname, "", port or 22)[0]
    except (ValueError, asyncssh.Error):
        return []
    return [key.get_fingerprint("sha256") for key in trusted]


def changed_key(host):
    """HostKeyChanged if the host's pinned known_hosts does not trust the key it offers now, else None.
    Only for SSH hosts with pinned lines; fetching may raise HostUnreachable."""
    if not host.ssh_known_hosts:
        return None
    hostname, port = ssh_target(host.uri)
    offered = fetch(hostname, port)
    pinned = pinned_fingerprints(host.ssh_known_hosts, hostname, port)
    if offered.fingerprint in pinned:
        return None
    return HostKeyChanged(known_hosts_name(hostname, port), pinned, offered)


def explain_refusal(host, error):
    """For an SSH host whose connection failed on its host key: the loud HostKeyChanged, else `error`."""
    message = str(getattr(error, "message", error)).lower()
    if "host key" not in message or not host.ssh_known_hosts:
        return error
    try:
        if not parse_host_uri(host.uri).is_ssh:
            return error
        changed = changed_key(host)
    except Exception:  # noqa: BLE001 - explaining a refusal must never keep it from being recorded
        return error
    if changed is None:
        return error
    changed.observed_at = getattr(error, "observed_at", changed.observed_at)
    return changed


def offer_token(offered):
    """The offered key, signed: the form hands it back when the admin confirms, unchanged or refused."""
    return signing.dumps([offered.known_hosts_name, offered.algorithm, offered.public_key, offered.fingerprint],
                         salt=_SALT)


def offered_from_token(token, uri):
    """The OfferedKey in a token from offer_token(), for the host `uri` names; InvalidValue otherwise."""
    try:
        fields = signing.loads(token, salt=_SALT, max_age=OFFER_MAX_AGE)
        offered = OfferedKey(*fields)
    except (signing.BadSignature, TypeError, ValueError):
        raise InvalidValue("ssh_host_key", _("The fetched host key expired or was altered: fetch it again."))
    if offered.known_hosts_name != known_hosts_name(*ssh_target(uri)):
        raise InvalidValue("ssh_host_key", _("The fetched host key is for %(name)s, not for this URI: fetch it "
                                             "again.") % {"name": offered.known_hosts_name})
    return offered


def pin(known_hosts, offered):
    """known_hosts with the offered key as the only plain line for its host (other hosts' lines kept)."""
    kept = [line for line in (known_hosts or "").splitlines()
            if line.strip() and offered.known_hosts_name not in line.split()[0].split(",")]
    return "\n".join([*kept, offered.line]) + "\n"


def generate_key_pair(comment="virtdeck"):
    """(private key in OpenSSH format, public key line for authorized_keys): a new Ed25519 pair."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    return key.export_private_key("openssh").decode(), key.export_public_key("openssh").decode().strip()


def public_line(private_key):
    """The authorized_keys line of an OpenSSH private key."""
    try:
        return asyncssh.import_private_key(private_key).export_public_key("openssh").decode().strip()
    except (ValueError, asyncssh.KeyImportError):
        raise InvalidValue("ssh_private_key", _("This is not an OpenSSH private key without a passphrase."))


def private_key_token(private_key):
    """The generated private key, encrypted, to come back with the form (never shown in the page)."""
    return crypto.encrypt(private_key)


def private_key_from_token(token):
    try:
        return crypto.decrypt(token)
    except ValueError:
        raise InvalidValue("ssh_private_key", _("The generated key could not be read back: generate it again."))
