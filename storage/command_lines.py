"""The command lines behind the storage dialogs (virt/commands.py), from the values the action takes."""
from virt import commands
from virt.storage import build_refuses_overwrite
from virt.volumes import check_policy
from virt.xml.storage import POOL_TYPES, build_pool


def create_pool(host, pool_type, name, fields, *, build=True, start=True, autostart=False):
    """pool-define of the XML services.create_pool would define (the same builder), then what it does next."""
    xml = build_pool(pool_type, name, **fields).to_xml()
    return commands.pool_define(host.uri, name, f"{name}.xml", xml, build=build and POOL_TYPES[pool_type].buildable,
                                overwrite_check=build_refuses_overwrite(pool_type), start=start, autostart=autostart)


def create_volume(pool, name, capacity, volume_format, allocation):
    """vol-create-as for the allocation policy; refused (InvalidConfig) where the create would be."""
    check_policy(name, capacity, volume_format, allocation)
    return commands.volume_create(pool.host.uri, pool.name, name, capacity, volume_format, allocation)


def copy_volume(source, target_pool, name, volume_format=None, allocation="thin"):
    """A clone or conversion job's line: vol-clone for a thin copy in the same pool and format, else qemu-img
    convert on the host (what libvirt runs for it). source: a Volume; target_pool: a StoragePool."""
    volume_format = volume_format or source.format
    if target_pool.pk == source.pool_id and volume_format == source.format and allocation == "thin":
        return commands.volume_clone(source.pool.host.uri, target_pool.name, source.name, name)
    target_path = f"{target_pool.target_path.rstrip('/')}/{name}"
    return commands.convert(source.path, source.format, target_path, volume_format, allocation)
