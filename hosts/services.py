"""Host actions, shared by views, API and tasks."""
import hashlib
import logging
import os
import shlex
import shutil
import tempfile
import time
import uuid as uuidlib
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.events import publish
from virt import host as virt_host
from virt import inventory as virt_inventory
from virt.connection import ConnectionSpec, get_pool
from virt.errors import VirtError

from .models import Host, libvirt_host_uri, parse_host_uri

log = logging.getLogger(__name__)

CREDENTIAL_FIELDS = ("password", "ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert",
                     "tls_client_key")


def pool():
    return get_pool(call_timeout=settings.VIRT_CALL_TIMEOUT, connect_timeout=settings.VIRT_CONNECT_TIMEOUT,
                    backoff_max=settings.VIRT_BACKOFF_MAX)


def _write_private(directory, name, content):
    """Write a 0600 file atomically (a unique temporary name: several processes may write it)."""
    path = directory / name
    if not path.exists() or path.read_text() != content:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # mkstemp creates it 0600
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.replace(tmp, path)
    return path


def _credentials_path(host):
    """A private directory named by a digest of the credentials (no pk needed before saving)."""
    digest = hashlib.sha256()
    for field in CREDENTIAL_FIELDS[1:]:
        digest.update(getattr(host, field).encode() + b"\0")
    return Path(settings.STATE_DIR) / "credentials" / digest.hexdigest()[:20]


def _credentials_dir(host):
    directory = _credentials_path(host)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    return directory


def _ssh_wrapper(directory, known_hosts):
    """OpenSSH ignores libvirt's known_hosts=: pin the key with a wrapper that passes -o options."""
    # ssh expands %-tokens in UserKnownHostsFile: double any '%' of the path, then quote it for sh.
    options = [f"UserKnownHostsFile={str(known_hosts).replace('%', '%%')}", "GlobalKnownHostsFile=/dev/null",
               "StrictHostKeyChecking=yes", "IdentitiesOnly=yes", "BatchMode=yes"]
    script = "#!/bin/sh\nexec ssh " + " ".join(f"-o {shlex.quote(o)}" for o in options) + ' "$@"\n'
    path = _write_private(directory, "ssh", script)
    os.chmod(path, 0o700)
    return path


def managed_params(host, parsed):
    """Query parameters virtdeck adds from the credential fields (files written 0600)."""
    params = {}
    if not any(getattr(host, f) for f in CREDENTIAL_FIELDS[1:]):
        return params
    directory = _credentials_dir(host)
    if parsed.is_ssh:
        if host.ssh_private_key:
            key = host.ssh_private_key if host.ssh_private_key.endswith("\n") else host.ssh_private_key + "\n"
            params["keyfile"] = str(_write_private(directory, "id_key", key))
        if host.ssh_known_hosts:
            known = _write_private(directory, "known_hosts", host.ssh_known_hosts.strip() + "\n")
            if parsed.scheme == "qemu+libssh":
                params["known_hosts"] = str(known)
                params.setdefault("known_hosts_verify", "normal")
            else:
                params["command"] = str(_ssh_wrapper(directory, known))
        if parsed.scheme == "qemu+libssh" and host.ssh_private_key:
            params.setdefault("sshauth", "privkey")
    if parsed.scheme == "qemu+tls" and (host.tls_ca_cert or host.tls_client_cert):
        # Only the files given: libvirt fails on an empty client certificate, and
        # without one it simply presents none.
        for name, content in (("cacert.pem", host.tls_ca_cert), ("clientcert.pem", host.tls_client_cert),
                              ("clientkey.pem", host.tls_client_key)):
            if content:
                _write_private(directory, name, content)
        params["pkipath"] = str(directory)
    return params


def forget_credentials(host):
    """Remove the credential files of `host`'s fields unless a saved host (as stored) uses the same ones."""
    directory = _credentials_path(host)
    if not directory.exists():
        return
    if any(_credentials_path(saved) == directory for saved in Host.objects.all()):
        return
    shutil.rmtree(directory, ignore_errors=True)


def connection_spec(host, key=None):
    """What the pool connects to. Raises URIError (a VirtError) when today's settings refuse the host's URI."""
    parsed = libvirt_host_uri(host.uri)
    return ConnectionSpec(
        key=key or f"host-{host.pk}",
        uri=parsed.build(managed_params(host, parsed)),
        username=host.username,
        password=host.password,
        display=host.uri,
        keepalive=settings.VIRT_KEEPALIVE,
    )


def call(host, fn, timeout=None):
    """Run fn(conn) on the host, bounded and translated (see virt.connection.Pool.call)."""
    return pool().call(connection_spec(host), fn, timeout=timeout)


def _kernel(host, parsed):
    """libvirt does not report the kernel: read it here for this machine, over SSH for SSH hosts."""
    from . import shell

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
    facts = pool().call(connection_spec(host, key), virt_host.facts)
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
    if set(changed_fields) & {"uri", "username", *CREDENTIAL_FIELDS}:
        stored = Host.objects.get(pk=host.pk)
        _store_facts(host, _probe(host))
        host.save()
        forget_credentials(stored)  # the replaced key files, unless still in use
        pool().reset(connection_spec(host).key)
    else:
        host.save()
    return host


def delete_host(host):
    pool().discard(f"host-{host.pk}")
    host_id = host.pk
    host.delete()
    forget_credentials(host)
    publish("host", id=host_id, deleted=True)


def _cpu_percent(previous, current):
    keys = ("kernel", "user", "idle", "iowait")
    if not previous or not all(k in current for k in ("kernel", "user", "idle")):
        return None
    total = sum(current.get(k, 0) - previous.get(k, 0) for k in keys)
    busy = sum(current.get(k, 0) - previous.get(k, 0) for k in ("kernel", "user"))
    return round(100.0 * busy / total, 1) if total > 0 else None


def mark_unreachable(host, error):
    """Record a VirtError as the host's state, unless the host was seen up after the failure.

    Several processes watch a host: a pool still backing off from an old failure
    must not flip back a host that another process has since reached.
    """
    observed = datetime.fromtimestamp(error.observed_at, tz=dt_timezone.utc)
    now = timezone.now()
    updated = Host.objects.filter(pk=host.pk).filter(Q(last_seen__isnull=True) | Q(last_seen__lt=observed)).update(
        state=Host.State.UNREACHABLE, last_error=error.message, latency_ms=None, last_sync=now
    )
    if not updated:
        return
    changed = host.state != Host.State.UNREACHABLE or host.last_error != error.message
    host.state, host.last_error, host.latency_ms, host.last_sync = Host.State.UNREACHABLE, error.message, None, now
    if changed:
        publish("host", id=host.pk, state=host.state)


def sync_host(host):
    """Refresh one host's inventory with bulk calls. Returns the number of VMs, or None if unreachable."""
    from instances import services as instance_services

    # Rows an event writes after this instant are newer than the listing: apply_records keeps them.
    sync_started = timezone.now()
    existing = instance_services.current_rows(host)

    def gather(conn):
        started = time.perf_counter()
        conn.getLibVersion()
        latency = (time.perf_counter() - started) * 1000
        return latency, virt_inventory.collect(conn, existing), virt_host.usage(conn)

    try:
        latency, records, usage = call(host, gather)
    except VirtError as exc:  # HostUnreachable included
        mark_unreachable(host, exc)
        return None
    now = timezone.now()
    changed_state = host.state != Host.State.UP
    host.cpu_percent = _cpu_percent(host.cpu_times, usage["cpu_times"])
    Host.objects.filter(pk=host.pk).update(
        state=Host.State.UP, last_error="", latency_ms=round(latency, 2), last_seen=now, last_sync=now,
        memory_total_kib=usage["memory_total_kib"], memory_free_kib=usage["memory_free_kib"],
        cpu_times=usage["cpu_times"], cpu_percent=host.cpu_percent,
    )
    host.state, host.last_error, host.latency_ms = Host.State.UP, "", round(latency, 2)
    changes = instance_services.apply_records(host, records, existing, sync_started=sync_started)
    if changed_state or changes:
        publish("host", id=host.pk, state=host.state, changes=changes)
    return len(records)


def refresh_facts(host):
    facts = read_facts(host)
    Host.objects.filter(pk=host.pk).update(
        facts={k: v for k, v in facts.items() if k != "capabilities_xml"},
        capabilities_xml=facts["capabilities_xml"],
    )
    return facts
