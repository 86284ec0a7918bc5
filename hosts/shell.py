"""Commands on a host: over SSH with the host's own key and pinned known_hosts, or on this machine.

Hosts reached over SSH (qemu+ssh, qemu+libssh) or locally (qemu:///system: libvirtd on the machine
virtdeck runs on) unlock host-side tools; this is the one way virtdeck runs anything there. Argument
lists only: the command is fixed by the caller, never built from user input.
"""
import shlex
import subprocess

from virt.errors import scrub

from .credentials import managed_params
from .models import parse_host_uri


class HostShellError(Exception):
    pass


def ssh_argv(host, remote_argv):
    """The OpenSSH command line that runs `remote_argv` on `host` (an SSH host)."""
    parsed = parse_host_uri(host.uri)
    if not parsed.is_ssh:
        raise HostShellError(f"{host.name} is not reached over SSH")
    params = managed_params(host, parsed)
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5"]
    known = params.get("known_hosts")
    if "command" in params:  # the pinning wrapper of qemu+ssh holds the same options
        argv[0] = params["command"]
    elif known:
        argv += ["-o", f"UserKnownHostsFile={known.replace('%', '%%')}", "-o", "GlobalKnownHostsFile=/dev/null"]
    if "keyfile" in params:
        argv += ["-o", "IdentitiesOnly=yes", "-i", params["keyfile"]]
    if parsed.port:
        argv += ["-p", str(parsed.port)]
    if parsed.username:
        argv += ["-l", parsed.username]
    # ssh hands the remote shell one command line: quote each word so it arrives as the same argument list.
    return [*argv, "--", parsed.hostname, *(shlex.quote(word) for word in remote_argv)]


def argv_for(host, remote_argv):
    """The command line that runs `remote_argv` on `host`: itself on this machine, else through ssh."""
    parsed = parse_host_uri(host.uri)
    if not parsed.has_shell:
        raise HostShellError(f"{host.name} is reached over {parsed.scheme}: virtdeck has no shell there "
                             "(use qemu+ssh, or qemu:///system on this machine)")
    return ssh_argv(host, remote_argv) if parsed.is_ssh else list(remote_argv)


def run(host, remote_argv, timeout=10, text=True):
    """stdout of `remote_argv` run on the host (bytes with text=False: a capture); HostShellError with the
    command's message on failure."""
    try:
        result = subprocess.run(argv_for(host, remote_argv), capture_output=True, text=text, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise HostShellError(f"no answer within {timeout} s") from None
    except FileNotFoundError as exc:
        raise HostShellError(f"{exc.filename} is not installed") from None
    if result.returncode != 0:
        stderr = result.stderr if text else result.stderr.decode(errors="replace")
        raise HostShellError(scrub(stderr.strip()) or f"exit status {result.returncode}")
    return result.stdout
