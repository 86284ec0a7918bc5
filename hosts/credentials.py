"""A host's credentials as the private files libvirt and ssh read (0600, in a 0700 directory).

The directory is named by a digest of the credentials, so a host needs no pk before it is
probed, and hosts with the same key files share them.
"""
import hashlib
import os
import shlex
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from .models import Host


def _write_private(directory, name, content):
    """Write a 0600 file atomically (a unique temporary name: several processes may write it)."""
    path = directory / name
    if not path.exists() or path.read_text() != content:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # mkstemp creates it 0600
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.replace(tmp, path)
    return path


def credentials_path(host):
    """A private directory named by a digest of the credentials (no pk needed before saving)."""
    digest = hashlib.sha256()
    for field in Host.CREDENTIAL_FILE_FIELDS:
        digest.update(getattr(host, field).encode() + b"\0")
    return Path(settings.STATE_DIR) / "credentials" / digest.hexdigest()[:20]


def credentials_dir(host):
    """credentials_path, created 0700."""
    directory = credentials_path(host)
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
    if parsed.scheme == "test+unix" and settings.VIRTDECK_DEMO_LIBVIRT_SOCKET:
        params["socket"] = settings.VIRTDECK_DEMO_LIBVIRT_SOCKET  # make run's private demo daemon
    if not any(getattr(host, f) for f in Host.CREDENTIAL_FILE_FIELDS):
        return params
    directory = credentials_dir(host)
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
    directory = credentials_path(host)
    if not directory.exists():
        return
    if any(credentials_path(saved) == directory for saved in Host.objects.all()):
        return
    shutil.rmtree(directory, ignore_errors=True)
