"""virt/xml/storage.py: pool and volume XML built, parsed and round-tripped through libvirt's test driver."""
import libvirt
import pytest

from virt.errors import InvalidConfig
from virt.xml.storage import (MAX_VOLUME_BYTES, POOL_TYPES, PoolXML, VolumeXML, build_pool, build_volume,
                              check_size)

# What `virsh pool-dumpxml` prints for an NFS pool (libvirt 9.0), plus elements virtdeck does not map.
LIBVIRT_NETFS_POOL = """\
<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>
  <name>nfs-vms</name>
  <uuid>0f5a2c7e-5a3b-4b8e-9d1c-2e6f7a8b9c0d</uuid>
  <capacity unit='bytes'>527295578112</capacity>
  <allocation unit='bytes'>103079215104</allocation>
  <available unit='bytes'>424216362008</available>
  <features>
    <cow state='no'/>
  </features>
  <source>
    <host name='nas.example.org'/>
    <dir path='/export/vms'/>
    <format type='nfs'/>
    <protocol ver='4'/>
  </source>
  <target>
    <path>/var/lib/libvirt/nfs-vms</path>
    <permissions>
      <mode>0755</mode>
      <owner>0</owner>
      <group>0</group>
    </permissions>
  </target>
  <refresh>
    <volume allocation='capacity'/>
  </refresh>
  <fs:mount_opts>
    <fs:option name='nosuid'/>
  </fs:mount_opts>
</pool>
"""

LIBVIRT_ISCSI_POOL = """\
<pool type='iscsi'>
  <name>san</name>
  <source>
    <host name='10.0.0.5' port='3260'/>
    <device path='iqn.2013-06.com.example:storage.lun1'/>
    <initiator>
      <iqn name='iqn.2013-06.com.example:kvm1'/>
    </initiator>
    <auth type='chap' username='kvm1'>
      <secret usage='libvirtiscsi'/>
    </auth>
  </source>
  <target>
    <path>/dev/disk/by-path</path>
  </target>
</pool>
"""

LIBVIRT_QCOW2_VOLUME = """\
<volume type='file'>
  <name>web1.qcow2</name>
  <key>/var/lib/libvirt/images/web1.qcow2</key>
  <capacity unit='bytes'>21474836480</capacity>
  <allocation unit='bytes'>1453326336</allocation>
  <physical unit='bytes'>1453129728</physical>
  <target>
    <path>/var/lib/libvirt/images/web1.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0600</mode>
      <owner>64055</owner>
      <group>64055</group>
    </permissions>
    <timestamps>
      <atime>1714036800.123456789</atime>
      <mtime>1714036800.123456789</mtime>
      <ctime>1714036800.123456789</ctime>
      <btime>0</btime>
    </timestamps>
    <compat>1.1</compat>
    <clusterSize unit='B'>65536</clusterSize>
    <features>
      <lazy_refcounts/>
    </features>
  </target>
  <backingStore>
    <path>/var/lib/libvirt/images/debian-12-base.qcow2</path>
    <format type='qcow2'/>
  </backingStore>
</volume>
"""

# Values for every field some pool type takes; each type picks the ones it lists.
SAMPLE_FIELDS = {
    "target_path": "/srv/pool",
    "source_device": "/dev/sdb1",
    "source_devices": ["/dev/sdc", "/dev/sdd"],
    "source_host": "storage.example.org",
    "source_port": 3260,
    "source_dir": "/export/vms",
    "source_name": "vmdata",
    "source_adapter_name": "host0",
    "source_initiator": "iqn.2013-06.com.example:kvm1",
    "source_protocol_version": "4",
    "auth_username": "kvm1",
    "auth_secret_usage": "kvm1-secret",
    "target_mode": "0711",
    "target_owner": 107,
    "target_group": 107,
    "target_label": "virt_image_t",
}

SAMPLE_SOURCE_FORMATS = {"fs": "ext4", "netfs": "nfs", "logical": "lvm2", "disk": "gpt"}


@pytest.fixture
def conn():
    libvirt.registerErrorHandler(lambda *a: None, None)
    c = libvirt.open("test:///default")
    yield c
    c.close()


def test_it_parses_a_pool_as_libvirt_writes_it():
    pool = PoolXML.from_xml(LIBVIRT_NETFS_POOL, trusted=True)
    assert (pool.type, pool.name, pool.uuid) == ("netfs", "nfs-vms", "0f5a2c7e-5a3b-4b8e-9d1c-2e6f7a8b9c0d")
    assert (pool.capacity, pool.allocation, pool.available) == (527295578112, 103079215104, 424216362008)
    assert (pool.source_host, pool.source_dir, pool.source_format) == ("nas.example.org", "/export/vms", "nfs")
    assert pool.source_protocol_version == "4"
    assert (pool.target_path, pool.target_mode, pool.target_owner) == ("/var/lib/libvirt/nfs-vms", "0755", 0)
    assert pool.source_path == "nas.example.org:/export/vms"

    iscsi = PoolXML.from_xml(LIBVIRT_ISCSI_POOL, trusted=True)
    assert (iscsi.source_host, iscsi.source_port, iscsi.source_device) == (
        "10.0.0.5", 3260, "iqn.2013-06.com.example:storage.lun1")
    assert iscsi.source_initiator == "iqn.2013-06.com.example:kvm1"
    assert (iscsi.auth_type, iscsi.auth_username, iscsi.auth_secret_usage) == ("chap", "kvm1", "libvirtiscsi")
    assert [host.name for host in iscsi.source_hosts] == ["10.0.0.5"]


def test_it_keeps_unknown_pool_elements_through_an_edit():
    pool = PoolXML.from_xml(LIBVIRT_NETFS_POOL, trusted=True)
    pool.target_path = "/mnt/other"
    pool.source_protocol_version = None
    again = PoolXML.from_xml(pool.to_xml())
    assert again.target_path == "/mnt/other" and again.source_protocol_version is None
    text = pool.to_xml()
    for kept in ("<cow state='no'/>", "<volume allocation='capacity'/>", "<fs:option name='nosuid'/>",
                 "<format type='nfs'/>"):
        assert kept.replace("'", '"') in text


def test_it_parses_a_volume_with_its_backing_store_and_features():
    volume = VolumeXML.from_xml(LIBVIRT_QCOW2_VOLUME, trusted=True)
    assert (volume.type, volume.name, volume.key) == ("file", "web1.qcow2", "/var/lib/libvirt/images/web1.qcow2")
    assert (volume.capacity, volume.allocation, volume.physical) == (21474836480, 1453326336, 1453129728)
    assert (volume.format, volume.compat, volume.lazy_refcounts) == ("qcow2", "1.1", True)
    assert (volume.mode, volume.owner, volume.group) == ("0600", 64055, 64055)
    assert (volume.backing_path, volume.backing_format) == ("/var/lib/libvirt/images/debian-12-base.qcow2", "qcow2")
    volume.lazy_refcounts = False
    text = volume.to_xml()
    assert "lazy_refcounts" not in text and "<features" not in text  # emptied parents go too
    assert '<clusterSize unit="B">65536</clusterSize>' in text and "<atime>" in text


@pytest.mark.parametrize(("unit", "value", "expected"), [
    (None, "1000", 1000), ("bytes", "1000", 1000), ("b", "7", 7), ("KiB", "1", 1024), ("KB", "1", 1000),
    ("M", "3", 3 * 2**20), ("GiB", "10", 10 * 2**30), ("TB", "2", 2 * 10**12),
])
def test_it_reads_storage_sizes_in_bytes_whatever_the_unit(unit, value, expected):
    unit_attr = f" unit='{unit}'" if unit else ""
    volume = VolumeXML.from_xml(f"<volume><name>v</name><capacity{unit_attr}>{value}</capacity></volume>")
    assert volume.capacity == expected


def test_it_refuses_bad_sizes_in_xml():
    with pytest.raises(InvalidConfig, match="negative"):
        VolumeXML.from_xml("<volume><capacity>-5</capacity></volume>").capacity  # noqa: B018
    with pytest.raises(InvalidConfig, match="Unknown size unit"):
        VolumeXML.from_xml("<volume><capacity unit='parsecs'>5</capacity></volume>").capacity  # noqa: B018


@pytest.mark.parametrize("pool_type", list(POOL_TYPES))
def test_it_builds_a_pool_of_each_type_that_libvirt_accepts_and_reads_back(conn, pool_type):
    spec = POOL_TYPES[pool_type]
    fields = {field: SAMPLE_FIELDS[field] for field in spec.fields if field in SAMPLE_FIELDS}
    if "source_format" in spec.fields:
        fields["source_format"] = SAMPLE_SOURCE_FORMATS[pool_type]
    if pool_type.startswith("iscsi"):
        fields["source_device"] = "iqn.2013-06.com.example:storage.lun1"  # the target's IQN
    name = f"vd-{pool_type}"
    built = build_pool(pool_type, name, **fields)
    # libvirt validates against its RNG schema, then writes back what it understood.
    defined = conn.storagePoolDefineXML(built.to_xml(), libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE)
    try:
        back = PoolXML.from_xml(defined.XMLDesc(0), trusted=True)
        assert (back.type, back.name) == (pool_type, name)
        for field, value in fields.items():
            if field == "source_devices":
                assert [device.path for device in back.source_devices] == value
            else:
                assert getattr(back, field) == value, field
        if spec.auth:
            assert back.auth_type == spec.auth
    finally:
        defined.undefine()


def test_it_names_missing_and_unknown_pool_fields():
    with pytest.raises(InvalidConfig, match="A netfs pool needs source_host, source_dir"):
        build_pool("netfs", "nfs", target_path="/mnt/nfs")
    with pytest.raises(InvalidConfig, match="A dir pool does not take source_host"):
        build_pool("dir", "images", target_path="/srv/images", source_host="nas")
    with pytest.raises(InvalidConfig, match="Unknown pool type 'floppy'"):
        build_pool("floppy", "x")
    # None and "" mean "not given", as an unfilled form field.
    assert build_pool("dir", "images", target_path="/srv/images", target_mode="", target_owner=None).target_mode is None


def test_it_gives_pools_of_devices_the_target_libvirt_expects():
    iscsi = build_pool("iscsi", "san", source_host="10.0.0.5", source_device="iqn.2013-06.com.example:lun1")
    assert iscsi.target_path == "/dev/disk/by-path"
    assert build_pool("logical", "vg", source_name="vmdata").target_path == "/dev/vmdata"
    assert build_pool("logical", "vg").target_path == "/dev/vg"  # the volume group is named like the pool
    assert build_pool("scsi", "hba", source_adapter_name="host0").source_adapter_type == "scsi_host"
    assert build_pool("rbd", "ceph", source_host="mon1", source_name="rbd").target_path is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"target_path": "relative/dir"}, "absolute path"),
    ({"target_path": "/srv/\x00x"}, "control characters"),
    ({"target_path": "/srv/x", "target_mode": "rwx"}, "octal mode"),
    ({"target_path": "/srv/x", "target_owner": -1}, "whole number from 0"),
    ({"target_path": "/srv/x", "target_owner": True}, "whole number"),
    ({"target_path": "/" + "x" * 2000}, "1 to 1024 characters"),
])
def test_it_refuses_bad_pool_values_before_libvirt(fields, message):
    with pytest.raises(InvalidConfig, match=message):
        build_pool("dir", "images", **fields)


def test_it_refuses_bad_source_values():
    with pytest.raises(InvalidConfig, match="whole number from 1 to 65535"):
        build_pool("iscsi", "san", source_host="10.0.0.5", source_device="iqn.x:y", source_port=70000)
    with pytest.raises(InvalidConfig, match="'ntfs' is not a fs pool format"):
        build_pool("fs", "data", source_device="/dev/sdb1", target_path="/mnt/data", source_format="ntfs")
    with pytest.raises(InvalidConfig, match="a list of device paths"):
        build_pool("logical", "vg", source_devices="/dev/sdb")
    with pytest.raises(InvalidConfig, match="Invalid pool name '../etc'"):
        build_pool("dir", "../etc", target_path="/srv/x")


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"volume_format": "raw"}, {"format": "raw", "allocation": 0, "compat": None}),
    ({"volume_format": "raw", "allocation": 2**30}, {"format": "raw", "allocation": 2**30}),
    ({"volume_format": "qcow2"}, {"format": "qcow2", "compat": "1.1", "lazy_refcounts": False}),
    ({"volume_format": "qcow2", "lazy_refcounts": True}, {"compat": "1.1", "lazy_refcounts": True}),
    ({"volume_format": "qcow2", "backing_path": "/srv/base.qcow2"},
     {"backing_path": "/srv/base.qcow2", "backing_format": "qcow2"}),
    ({"volume_format": None}, {"format": None}),
])
def test_it_builds_volumes_and_libvirt_reads_them_back(conn, kwargs, expected):
    built = build_volume("disk1", 2**30, **kwargs)
    for field, value in expected.items():
        assert getattr(built, field) == value, field
    pool = conn.storagePoolLookupByName("default-pool")
    volume = pool.createXML(built.to_xml(), 0)
    try:
        back = VolumeXML.from_xml(volume.XMLDesc(0), trusted=True)
        assert (back.name, back.capacity, back.allocation) == ("disk1", 2**30, built.allocation)
        assert back.format == (built.format or "raw")
        assert back.compat == built.compat
        assert back.backing_path == built.backing_path
    finally:
        volume.delete(0)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("a/b", 1024), {}, "Invalid volume name"),
    (("..", 1024), {}, "Invalid volume name"),
    (("-x", 1024), {}, "cannot start with '-'"),
    (("v", -1), {}, "at least 1 bytes"),
    (("v", 0), {}, "at least 1 bytes"),
    (("v", 1.5), {}, "whole number of bytes"),
    (("v", "1024"), {}, "whole number of bytes"),
    (("v", True), {}, "whole number of bytes"),
    (("v", MAX_VOLUME_BYTES + 1), {}, "over virtdeck's limit"),
    (("v", 1024), {"volume_format": "vmdk"}, "Unknown volume format 'vmdk'"),
    (("v", 1024), {"allocation": 2048}, "cannot exceed the capacity"),
    (("v", 1024), {"allocation": -1}, "at least 0 bytes"),
    (("v", 1024), {"backing_path": "/srv/base"}, "need the qcow2 format"),
    (("v", 1024), {"volume_format": "qcow2", "backing_path": "base.qcow2"}, "absolute path"),
])
def test_it_refuses_bad_volume_input(args, kwargs, message):
    with pytest.raises(InvalidConfig, match=message):
        build_volume(*args, **kwargs)


def test_it_bounds_sizes_at_one_pebibyte():
    assert check_size(MAX_VOLUME_BYTES) == 2**50
    assert check_size(0, minimum=0) == 0
