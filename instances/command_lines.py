"""The command lines behind a VM's dialogs (virt/commands.py), built from the parameters the action takes:
the same function feeds the dialog, while the form changes, and the job's page, once it runs."""
from django.utils.translation import gettext

from storage.models import StoragePool, Volume
from virt import commands
from virt.domain_delete import owned_images
from virt.errors import NotFound

from .choices import InstanceState
from .devices import BYTES_IN_MIB
from .migration import destination_uri
from .services import on_domain
from .snapshots import SnapshotKind, check_new_snapshot, native_external_revert


def migrate(source, vm_name, target, options):
    """`virsh migrate` from `source` to `target` (hosts) with the job's options (virt.migration.Options as a dict)."""
    destination = destination_uri(target) if options.get("peer2peer", True) else target.uri
    return commands.migrate(source.uri, vm_name, destination, migration_address=target.migration_address,
                            **options)


def snapshot_create(instance, name, kind, description=""):
    """snapshot-create-as for the form's values; ValidationError by field where the create refuses them."""
    check_new_snapshot(name, kind, description)
    return commands.snapshot_create(instance.host.uri, instance.name, name, kind, description)


def snapshot_lines(instance, snapshots):
    """For each snapshot (as list_snapshots gives them), its revert and delete lines, labelled."""
    uri, made = instance.host.uri, []
    virtdeck_reverts = not native_external_revert(instance.host)
    for snapshot in snapshots:
        name = snapshot["name"]
        revert_note = gettext("Revert to %(name)s") % {"name": name}
        if snapshot["kind"] == SnapshotKind.EXTERNAL and virtdeck_reverts:
            revert_note = gettext("Revert to %(name)s (this libvirt refuses it for an external snapshot: virtdeck "
                                  "points the disks back itself)") % {"name": name}
        made += [commands.Command(line.argv, note=revert_note)
                 for line in commands.snapshot_revert(uri, instance.name, name)]
        made += [commands.Command(line.argv, note=gettext("Delete %(name)s") % {"name": name})
                 for line in commands.snapshot_delete(uri, instance.name, name)]
    return made


def delete(instance, delete_volumes=False):
    """`virsh undefine` as the delete does it (saved state, snapshots' metadata, UEFI variables), naming with
    delete_volumes the images it would consider the VM's (read from the host: one call), by path: virsh's
    --storage takes paths or disk targets, not a disk's pool and volume."""
    if not delete_volumes:
        return commands.delete(instance.host.uri, instance.name)
    paths = sorted(on_domain(instance, lambda dom: owned_images(dom))["paths"])
    return [commands.Command(line.argv, note=gettext("virtdeck leaves an image another VM uses or no storage pool "
                                                     "holds; virsh refuses those instead"))
            for line in commands.delete(instance.host.uri, instance.name, paths)]


def create(host, name, xml, volume=None, start=True):
    """The create job's steps: vol-create-as for a new disk volume, define of the very XML (shown to save), start.
    volume: the plan's {"pool", "name", "capacity", "format", "allocation"} or None."""
    made = []
    if volume:
        made += commands.volume_create(host.uri, volume["pool"], volume["name"], volume["capacity"],
                                       volume["format"], volume["allocation"])
    made += commands.define(host.uri, f"{name}.xml", xml)
    if start:
        made += commands.lifecycle(host.uri, name, "start")
    return made


def _where(instance, affect=None):
    """(live, config) of a change as virt.lifecycle.affect picks it, from the state the inventory last saw."""
    if affect is None:
        return instance.state == InstanceState.RUNNING, True
    return affect in ("live", "both"), affect in ("config", "both")


def counts(instance, vcpus=None, max_vcpus=None, memory_mib=None, max_memory_mib=None, **_next_boot_only):
    """setvcpus / setmaxmem / setmem for the hardware page's vCPU and memory form (the CPU mode, boot order and
    VNC have no virsh line of their own: `virsh edit`; the VNC password is never shown)."""
    live, config = _where(instance)
    uri, name, made = instance.host.uri, instance.name, []
    if vcpus is not None:
        made += commands.set_vcpus(uri, name, vcpus, live=live, config=config, maximum=max_vcpus)
    elif max_vcpus is not None:
        made += commands.set_vcpus(uri, name, max_vcpus, maximum=max_vcpus)[:1]
    to_kib = 1024
    if memory_mib is not None:
        made += commands.set_memory(uri, name, memory_mib * to_kib, live=live, config=config,
                                    maximum_kib=max_memory_mib * to_kib if max_memory_mib else None)
    elif max_memory_mib is not None:
        made += commands.set_memory(uri, name, max_memory_mib * to_kib, maximum_kib=max_memory_mib * to_kib)[:1]
    return made


def nic_add(instance, type, source, model="virtio", mac=None, affect=None, **_link):
    live, config = _where(instance, affect)
    return commands.attach_interface(instance.host.uri, instance.name, type, source, model=model, mac=mac or None,
                                     live=live, config=config)


def disk_attach(instance, *, pool=None, name=None, size_mib=None, format="qcow2", allocation="thin", volume=None,
                path=None, device="disk", target=None, bus=None, cache="default", affect=None):
    """vol-create-as (a new volume) and attach-disk, as devices.attach_disk would do them: the volume's path and
    format from the inventory, the target asked of the host when none is given (one call)."""
    live, config = _where(instance, affect)
    made, uri = [], instance.host.uri
    if size_mib is not None:
        bus = bus or "virtio"
        stored = StoragePool.objects.filter(host=instance.host, name=pool).first()
        if stored is None:
            raise NotFound(gettext("pool: %(host)s has no pool %(pool)s.") % {"host": instance.host, "pool": pool})
        made += commands.volume_create(uri, pool, name, size_mib * BYTES_IN_MIB, format, allocation)
        source, driver_format = f"{stored.target_path.rstrip('/')}/{name}", format
    else:
        bus = bus or ("sata" if device == "cdrom" else "virtio")
        found = Volume.objects.filter(pool__host=instance.host, **({"path": path} if path is not None
                                                                    else {"pool__name": pool, "name": volume}))
        stored = found.first()
        if stored is None:
            raise NotFound(gettext("volume: no storage pool of %(host)s holds it.") % {"host": instance.host})
        source, driver_format = stored.path, stored.format or "raw"
    target = on_domain(instance, lambda dom: dom.disk_target(target, bus, cache))
    made += commands.attach_disk(uri, instance.name, source, target, bus=bus, driver_format=driver_format,
                                 device=device, live=live, config=config, cache=cache)
    return made
