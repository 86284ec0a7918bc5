"""The command lines an admin would type for what virtdeck does: virsh, qemu-img. Pure: builds words, runs nothing.

Every action dialog, wizard preview and job page shows them, built from the same parameters the action takes,
so an admin learns the tool and can repeat the action by hand. virtdeck itself calls libvirt's API, never
these commands. Arguments stay separate words (shlex.join quotes them for display), so a name with a space or
a quote reads back exactly as the shell would pass it.
"""
import shlex
from dataclasses import dataclass

# virtdeck action name -> virsh command. Restore is a start: starting a VM with a managed save resumes it.
LIFECYCLE = {
    "start": "start", "restore": "start", "shutdown": "shutdown", "reboot": "reboot", "reset": "reset",
    "suspend": "suspend", "resume": "resume", "save": "managedsave", "destroy": "destroy",
    "discard_save": "managedsave-remove",
}
_UNITS = (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10))


@dataclass(frozen=True)
class Command:
    argv: tuple
    note: str = ""  # when the line is not simply "run this" (e.g. "from another shell while it runs")
    reads: str = ""  # the text of the file the line names (the XML to define), shown beside it to save

    def __str__(self):
        return shlex.join(self.argv)


def _virsh(uri, *words):
    return Command(("virsh", "-c", uri, *(str(word) for word in words)))


def size(nbytes):
    """A virsh scaled integer: 10G for 10 GiB (virsh's units are powers of 1024), else plain bytes."""
    nbytes = int(nbytes)
    for suffix, unit in _UNITS:
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return str(nbytes)


# Domains


def lifecycle(uri, name, action):
    if action == "autostart":
        raise ValueError("autostart takes a state: use autostart()")
    return [_virsh(uri, LIFECYCLE[action], name)]


def autostart(uri, name, enabled):
    return [_virsh(uri, "autostart", name, *(() if enabled else ("--disable",)))]


def rename(uri, name, new_name):
    return [_virsh(uri, "domrename", name, new_name)]


def define(uri, xml_file, xml=""):
    return [Command(_virsh(uri, "define", xml_file).argv, reads=xml)]


def delete(uri, name, volume_paths=(), nvram=True):
    """Undefine with the saved state and snapshots' metadata; the volumes named by path go too."""
    words = ["undefine", name, "--managed-save", "--snapshots-metadata"]
    if nvram:
        words.append("--nvram")
    if volume_paths:
        words += ["--storage", ",".join(volume_paths)]
    return [_virsh(uri, *words)]


def _where(live, config):
    return [*(["--live"] if live else []), *(["--config"] if config else [])]


def set_vcpus(uri, name, count, *, live=False, config=True, maximum=None):
    commands = []
    if maximum is not None:
        commands.append(_virsh(uri, "setvcpus", name, maximum, "--maximum", "--config"))
    commands.append(_virsh(uri, "setvcpus", name, count, *_where(live, config)))
    return commands


def set_memory(uri, name, kib, *, live=False, config=True, maximum_kib=None):
    commands = []
    if maximum_kib is not None:
        commands.append(_virsh(uri, "setmaxmem", name, f"{int(maximum_kib)}K", "--config"))
    commands.append(_virsh(uri, "setmem", name, f"{int(kib)}K", *_where(live, config)))
    return commands


def attach_disk(uri, name, source, target, *, bus="virtio", driver_format="qcow2", device="disk", live=False,
                config=True, cache="default"):
    words = ["attach-disk", name, source, target, "--targetbus", bus, "--driver", "qemu",
             "--subdriver", driver_format]
    if device != "disk":
        words += ["--type", device, *(["--mode", "readonly"] if device == "cdrom" else [])]
    if cache and cache != "default":
        words += ["--cache", cache]
    return [_virsh(uri, *words, *_where(live, config))]


def detach_disk(uri, name, target, *, live=False, config=True):
    return [_virsh(uri, "detach-disk", name, target, *_where(live, config))]


def resize_disk(uri, name, target, nbytes):
    return [_virsh(uri, "blockresize", name, target, size(nbytes))]


def attach_interface(uri, name, kind, source, *, model="virtio", mac=None, live=False, config=True):
    words = ["attach-interface", name, kind, source, "--model", model]
    if mac:
        words += ["--mac", mac]
    return [_virsh(uri, *words, *_where(live, config))]


def detach_interface(uri, name, kind, mac, *, live=False, config=True):
    return [_virsh(uri, "detach-interface", name, kind, "--mac", mac, *_where(live, config))]


def screenshot(uri, name, png_file):
    return [_virsh(uri, "screenshot", name, png_file)]


# Snapshots


def snapshot_create(uri, name, snapshot, kind="internal", description=""):
    words = ["snapshot-create-as", name, snapshot]
    if description:
        words += ["--description", description]
    if kind == "external":
        words += ["--disk-only", "--atomic"]
    return [_virsh(uri, *words)]


def snapshot_revert(uri, name, snapshot):
    return [_virsh(uri, "snapshot-revert", name, snapshot)]


def snapshot_delete(uri, name, snapshot):
    return [_virsh(uri, "snapshot-delete", name, snapshot)]


# Migration


def migrate(uri, name, destination_uri, *, live=True, persistent=True, undefine_source=True, storage="shared",
            peer2peer=True, tunnelled=False, max_bandwidth_mib=None, max_downtime_ms=None, auto_converge=False,
            post_copy=False, compressed=False, unsafe=False, migration_address="", **_ignored):
    """`virsh migrate` with the options of virtdeck's migration job (its parameters, by the same names)."""
    words = ["migrate"]
    for flag, option in ((live, "--live"), (persistent, "--persistent"), (undefine_source, "--undefinesource"),
                         (peer2peer, "--p2p"), (tunnelled, "--tunnelled"), (auto_converge, "--auto-converge"),
                         (post_copy, "--postcopy"), (compressed, "--compressed"), (unsafe, "--unsafe")):
        if flag:
            words.append(option)
    words += {"copy_all": ["--copy-storage-all"], "copy_incremental": ["--copy-storage-inc"]}.get(storage, [])
    if max_bandwidth_mib:
        words += ["--bandwidth", int(max_bandwidth_mib)]
    words += ["--verbose", name, destination_uri]
    if migration_address and not tunnelled:
        words += ["--migrateuri", f"tcp://{migration_address}"]
    commands = [_virsh(uri, *words)]
    if max_downtime_ms:
        # virsh migrate has no downtime option: it is set on the running migration job.
        commands.append(Command(_virsh(uri, "migrate-setmaxdowntime", name, int(max_downtime_ms)).argv,
                                note="from another shell while the migration runs"))
    if post_copy:
        commands.append(Command(_virsh(uri, "migrate-postcopy", name).argv,
                                note="from another shell, to switch the running migration to post-copy"))
    return commands


# Storage


def pool_define(uri, name, xml_file, xml="", *, build=True, overwrite_check=False, start=True, autostart=False):
    """pool-define of the XML, then build (--no-overwrite: refuse to format existing data, as virtdeck does for
    fs, disk and logical pools), start and autostart as asked."""
    commands = [Command(_virsh(uri, "pool-define", xml_file).argv, reads=xml)]
    if build:
        commands.append(_virsh(uri, "pool-build", name, *(("--no-overwrite",) if overwrite_check else ())))
    if start:
        commands.append(_virsh(uri, "pool-start", name))
    if autostart:
        commands.append(_virsh(uri, "pool-autostart", name))
    return commands


def pool_action(uri, name, action):
    """start, stop, refresh, delete (undefine; with_storage first removes the directory or volume group)."""
    return [_virsh(uri, {"start": "pool-start", "stop": "pool-destroy", "refresh": "pool-refresh",
                         "undefine": "pool-undefine", "delete_storage": "pool-delete"}[action], name)]


def pool_autostart(uri, name, enabled):
    return [_virsh(uri, "pool-autostart", name, *(() if enabled else ("--disable",)))]


def volume_create(uri, pool, name, capacity, volume_format="raw", allocation="thin"):
    """thin: nothing allocated; thick: all of it; metadata (qcow2): its tables only (libvirt's flag)."""
    words = ["vol-create-as", pool, name, size(capacity), "--format", volume_format,
             "--allocation", size(capacity) if allocation == "thick" else "0"]
    if volume_format == "qcow2" and allocation in ("thick", "metadata"):
        words.append("--prealloc-metadata")
    return [_virsh(uri, *words)]


def volume_resize(uri, pool, name, capacity, shrink=False):
    return [_virsh(uri, "vol-resize", name, size(capacity), "--pool", pool, *(("--shrink",) if shrink else ()))]


def volume_delete(uri, pool, name):
    return [_virsh(uri, "vol-delete", name, "--pool", pool)]


def volume_clone(uri, pool, name, new_name):
    return [_virsh(uri, "vol-clone", name, new_name, "--pool", pool)]


def volume_download(uri, pool, name, local_file):
    return [_virsh(uri, "vol-download", name, local_file, "--pool", pool, "--sparse")]


def volume_upload(uri, pool, name, local_file):
    return [_virsh(uri, "vol-upload", name, local_file, "--pool", pool, "--sparse")]


def convert(source_path, source_format, target_path, target_format, allocation="thin"):
    """qemu-img convert, on the host (what libvirt runs for a copy between formats)."""
    words = ["qemu-img", "convert", "-p", "-f", source_format, "-O", target_format]
    if allocation == "thick":
        words += ["-o", "preallocation=falloc"] if target_format == "qcow2" else ["-S", "0"]
    elif allocation == "metadata" and target_format == "qcow2":
        words += ["-o", "preallocation=metadata"]
    return [Command((*words, source_path, target_path), note="on the host")]


# Networks


def network_define(uri, name, xml_file, *, start=True, autostart=False, xml=""):
    commands = [Command(_virsh(uri, "net-define", xml_file).argv, reads=xml)]
    if start:
        commands.append(_virsh(uri, "net-start", name))
    if autostart:
        commands.append(_virsh(uri, "net-autostart", name))
    return commands


def network_action(uri, name, action):
    return [_virsh(uri, {"start": "net-start", "stop": "net-destroy", "undefine": "net-undefine"}[action], name)]


def network_autostart(uri, name, enabled):
    return [_virsh(uri, "net-autostart", name, *(() if enabled else ("--disable",)))]
