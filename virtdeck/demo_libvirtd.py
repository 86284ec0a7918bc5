"""The libvirtd that serves `make run`'s demo host (libvirt's test driver), reachable only by virtdeck.

It listens on no TCP port: only on a unix socket in a 0700 directory of virtdeck's run directory, socket
mode 0700, so only virtdeck's own user (and root) can connect. virtdeck finds it through the setting
VIRTDECK_DEMO_LIBVIRT_SOCKET, which hosts.credentials adds as `socket=` to test+unix:// URIs.

Run as root, libvirtd is the privileged daemon: its drivers keep state under /run/libvirt, /var/lib/libvirt,
/etc/libvirt... where a system libvirtd (the lab's, say) keeps its own. So it runs in a mount namespace of its
own (`unshare --mount`) with empty private directories over those: it sees nothing of the system daemon's
VMs, networks or locks, and they see nothing of it. As another user it is the session daemon, private anyway.

`python -m virtdeck.demo_libvirtd DIR` is the namespaced child: it mounts the private directories and execs
libvirtd. No shell is involved.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The system daemon's state, hidden from the demo daemon by an empty tmpfs each.
PRIVATE_DIRS = ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/etc/libvirt")
SOCKET_NAME = "libvirt-sock"


def socket_path(directory):
    return Path(directory) / SOCKET_NAME


def uri(directory):
    """The URI virsh (not virtdeck, which adds socket= itself) connects to the demo daemon with."""
    return f"test+unix:///default?socket={socket_path(directory)}"


def config(directory):
    """libvirtd.conf: unix sockets only, in `directory`, for the owner alone; logs to a file there."""
    directory = Path(directory)
    return "\n".join([
        f'unix_sock_dir = "{directory}"',
        'unix_sock_ro_perms = "0700"',
        'unix_sock_rw_perms = "0700"',
        'unix_sock_admin_perms = "0700"',
        # Only the owner can reach the socket: the file mode is the authentication.
        'auth_unix_ro = "none"',
        'auth_unix_rw = "none"',
        f'log_outputs = "3:file:{directory / "libvirtd.log"}"',
        "",
    ])


def prepare(directory):
    """Make the private directory (0700) and its libvirtd.conf; returns the config's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    conf = directory / "libvirtd.conf"
    conf.write_text(config(directory))
    conf.chmod(0o600)
    return conf


def daemon_argv(directory):
    return [shutil.which("libvirtd") or "/usr/sbin/libvirtd", "-f", str(Path(directory) / "libvirtd.conf"),
            "-p", str(Path(directory) / "libvirtd.pid")]


def argv(directory):
    """The command `make run` supervises: libvirtd in the foreground, in its own mount namespace as root."""
    prepare(directory)
    if os.geteuid() != 0:
        return daemon_argv(directory)
    return [shutil.which("unshare") or "/usr/bin/unshare", "--mount", "--propagation", "private", "--",
            sys.executable, "-m", "virtdeck.demo_libvirtd", str(directory)]


def keeper_argv(directory):
    """A connection held open for the daemon's lifetime: the test driver drops its state when the last one
    closes, and web, workers and watcher must share one state (lab/up keeps one the same way)."""
    return [shutil.which("virsh") or "/usr/bin/virsh", "-q", "-c", uri(directory), "event", "--all", "--loop"]


def _exec_in_namespace(directory):
    # Mounting over /etc/libvirt outside a namespace of our own would hide the system daemon's files.
    if os.readlink("/proc/self/ns/mnt") == os.readlink(f"/proc/{os.getppid()}/ns/mnt"):
        sys.exit("demo libvirtd: not in a mount namespace of its own (run it through argv())")
    for path in PRIVATE_DIRS:
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", path], check=True)
    argv = daemon_argv(directory)
    os.execv(argv[0], argv)  # nosec B606 - libvirtd by absolute path with its config and pidfile, no shell


if __name__ == "__main__":
    _exec_in_namespace(sys.argv[1])
