"""Host actions, shared by views, API and tasks: add, edit and remove hosts, read their facts."""
import logging
import os
import uuid as uuidlib

from django.db import transaction
from django.utils import timezone

from core.events import publish
from virt import host as virt_host
from virt.errors import VirtError

from . import host_keys, shell
from .connection import connection_spec, disconnect, in_callers_language, pool, reconnect
from .credentials import forget_credentials
from .models import Host, parse_host_uri
from .sync import sync_host

log = logging.getLogger(__name__)


def _kernel(host, parsed):
    """libvirt does not report the kernel: read it here for this machine, over SSH for SSH hosts."""
    if parsed.is_ssh:
        try:
            return shell.run(host, ["uname", "-sr"], timeout=10).strip()
        except shell.HostShellError as exc:
            log.warning("kernel version of %s over SSH: %s", host.name, exc)
            return ""
    if parsed.on_this_machine:
        return f"{os.uname().sysname} {os.uname().release}"
    return ""


def read_facts(host, key=None):
    facts = pool().call(connection_spec(host, key), in_callers_language(virt_host.facts))
    parsed = parse_host_uri(host.uri)
    facts["kernel"] = _kernel(host, parsed)
    facts["has_shell"] = parsed.has_shell
    return facts


def _probe(host):
    """Connect with the host's current (unsaved) settings and read its facts.

    A separate pool entry, discarded afterwards: a failed try leaves neither a
    backoff on the saved host nor credential files behind.
    """
    key = f"probe-{uuidlib.uuid4()}"
    try:
        return read_facts(host, key=key)  # raises with libvirt's own message
    except VirtError:
        forget_credentials(host)
        raise
    finally:
        pool().discard(key)


def _store_facts(host, facts):
    host.facts = {k: v for k, v in facts.items() if k != "capabilities_xml"}
    host.capabilities_xml = facts["capabilities_xml"]


def create_host(host):
    """Validate, connect, read facts, then save. Nothing is saved when the host cannot be reached."""
    facts = _probe(host)
    with transaction.atomic():
        _store_facts(host, facts)
        host.state = Host.State.UP
        host.last_seen = timezone.now()
        host.save()
    sync_host(host)
    return host


def update_host(host, changed_fields):
    """Save edits; a changed URI or credential must still connect (else nothing changes)."""
    if set(changed_fields) & set(Host.CONNECTION_FIELDS):
        stored = Host.objects.get(pk=host.pk)
        _store_facts(host, _probe(host))
        host.save()
        forget_credentials(stored)  # the replaced key files, unless still in use
        reconnect(host)
    else:
        host.save()
    return host


def delete_host(host):
    disconnect(host)
    host_id = host.pk
    host.delete()
    forget_credentials(host)
    publish("host", id=host_id, deleted=True)


def refresh_facts(host):
    """Re-read the host's facts and store them."""
    facts = read_facts(host)
    _store_facts(host, facts)
    Host.objects.filter(pk=host.pk).update(facts=host.facts, capabilities_xml=host.capabilities_xml)
    return facts


def accept_host_key(host, offered):
    """Pin the SSH host key an admin checked (hosts.host_keys.OfferedKey) in place of the old one, connect with
    it (nothing changes if that fails) and sync the host."""
    host.ssh_known_hosts = host_keys.pin(host.ssh_known_hosts, offered)
    update_host(host, ["ssh_known_hosts"])
    sync_host(host)
    return host
