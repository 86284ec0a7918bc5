"""Every storage pool type libvirt offers, with the fields a new pool of that type takes.

Pure data for builders and forms: `required` and `optional` name PoolXML
properties, in the order libvirt writes the elements. What a given host
supports comes from its storage pool capabilities (virt.storage.pool_capabilities);
this table says what each type needs and what virtdeck can do with it.
"""
from dataclasses import dataclass

FILE_VOLUME_FORMATS = ("raw", "qcow2")
PERMISSIONS = ("target_mode", "target_owner", "target_group", "target_label")


@dataclass(frozen=True)
class PoolType:
    name: str
    required: tuple
    optional: tuple = ()
    source_formats: tuple = ()  # choices for source_format, libvirt's default first
    buildable: bool = False  # build() prepares the storage: mkdir, mkfs, pvcreate+vgcreate, a partition table
    deletable: bool = False  # delete() removes it: the directory, the volume group, the zpool
    volume_formats: tuple = ()  # formats of new volumes; () means volumes cannot be created (iSCSI LUNs...)
    file_volumes: bool = False  # volumes are files, whose XML names a <format>
    auth: str = ""  # the <auth type> it takes (chap, ceph), if any
    default_target: str = ""  # the target path a new pool gets unless one is given

    @property
    def fields(self):
        return self.required + self.optional


_TYPES = (
    PoolType("dir", ("target_path",), PERMISSIONS, buildable=True, deletable=True,
             volume_formats=FILE_VOLUME_FORMATS, file_volumes=True),
    PoolType("fs", ("source_device", "target_path"), ("source_format", *PERMISSIONS),
             source_formats=("auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat",
                             "hfs+", "xfs", "ocfs2", "vmfs"),
             buildable=True, deletable=True, volume_formats=FILE_VOLUME_FORMATS, file_volumes=True),
    PoolType("netfs", ("source_host", "source_dir", "target_path"),
             ("source_format", "source_protocol_version", *PERMISSIONS),
             source_formats=("auto", "nfs", "glusterfs", "cifs"),
             buildable=True, deletable=True, volume_formats=FILE_VOLUME_FORMATS, file_volumes=True),
    # The volume group is named like the pool unless source_name says otherwise; building one needs devices.
    # libvirt sets the target itself (/dev/<volume group>).
    PoolType("logical", (), ("source_devices", "source_name", "source_format"),
             source_formats=("lvm2", "unknown"), buildable=True, deletable=True, volume_formats=("raw",)),
    PoolType("disk", ("source_device",), ("source_format", "target_path"),
             source_formats=("unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2"),
             buildable=True, volume_formats=("raw",), default_target="/dev"),
    PoolType("iscsi", ("source_host", "source_device"),
             ("source_port", "source_initiator", "auth_username", "auth_secret_usage", "auth_secret_uuid",
              "target_path"),
             auth="chap", default_target="/dev/disk/by-path"),
    PoolType("iscsi-direct", ("source_host", "source_device", "source_initiator"),
             ("source_port", "auth_username", "auth_secret_usage", "auth_secret_uuid"), auth="chap"),
    PoolType("scsi", ("source_adapter_name",), ("target_path",), default_target="/dev/disk/by-path"),
    PoolType("mpath", (), ("target_path",), default_target="/dev/mapper"),
    PoolType("rbd", ("source_host", "source_name"),
             ("source_port", "auth_username", "auth_secret_usage", "auth_secret_uuid"),
             volume_formats=("raw",), auth="ceph"),
    PoolType("sheepdog", ("source_host", "source_name"), ("source_port",), volume_formats=("raw",)),
    PoolType("gluster", ("source_host", "source_name"), ("source_dir",),
             volume_formats=FILE_VOLUME_FORMATS, file_volumes=True),
    PoolType("zfs", ("source_name",), ("source_device",), buildable=True, deletable=True,
             volume_formats=("raw",)),
    PoolType("vstorage", ("source_name", "target_path"), PERMISSIONS, buildable=True, deletable=True,
             volume_formats=FILE_VOLUME_FORMATS, file_volumes=True),
)

POOL_TYPES = {pool_type.name: pool_type for pool_type in _TYPES}
