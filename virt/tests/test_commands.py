"""virt.commands: the command line behind each action, as separate words, quoted only for display."""
import shlex

import pytest

from virt import commands
from virt.lifecycle import ACTIONS

URI = "qemu+ssh://root@kvm1/system"


def words(command_list):
    return [list(command.argv) for command in command_list]


def test_it_maps_every_lifecycle_button_to_virsh():
    for action in set(ACTIONS) - {"rename", "autostart", "delete"}:
        (command,) = commands.lifecycle(URI, "web1", action)
        assert command.argv[:3] == ("virsh", "-c", URI) and command.argv[-1] == "web1"
    assert str(commands.lifecycle(URI, "web1", "save")[0]) == f"virsh -c {URI} managedsave web1"
    assert commands.lifecycle(URI, "web1", "restore")[0].argv[3] == "start"  # a start resumes the saved state


def test_it_keeps_a_hostile_name_one_word():
    name = "web 1; rm -rf / $(id) 'x'"
    (command,) = commands.snapshot_create(URI, name, "snap`id`", description="a\nb")
    assert command.argv == ("virsh", "-c", URI, "snapshot-create-as", name, "snap`id`", "--description", "a\nb")
    assert shlex.split(str(command)) == list(command.argv)  # what a shell would hand virsh, word for word


def test_it_scales_sizes_the_way_virsh_reads_them():
    assert commands.size(10 << 30) == "10G" and commands.size(1536) == "1536" and commands.size(1000) == "1000"
    assert commands.size(2048) == "2K" and commands.size(0) == "0"


@pytest.mark.parametrize("volume_format, allocation, tail", [
    ("raw", "thin", ["--allocation", "0"]),
    ("raw", "thick", ["--allocation", "1G"]),
    ("qcow2", "thin", ["--allocation", "0"]),
    ("qcow2", "metadata", ["--allocation", "0", "--prealloc-metadata"]),
    ("qcow2", "thick", ["--allocation", "1G", "--prealloc-metadata"]),
])
def test_it_builds_vol_create_as_for_each_policy(volume_format, allocation, tail):
    (command,) = commands.volume_create(URI, "images", "disk", 1 << 30, volume_format, allocation)
    assert list(command.argv[3:]) == ["vol-create-as", "images", "disk", "1G", "--format", volume_format, *tail]


def test_it_builds_migrate_with_every_option_and_the_follow_ups():
    built = commands.migrate(URI, "web1", "qemu+tcp://10.0.0.2/system", storage="copy_all", tunnelled=False,
                             max_bandwidth_mib=64, max_downtime_ms=300, auto_converge=True, post_copy=True,
                             compressed=True, unsafe=True, migration_address="10.0.0.2")
    main, downtime, switch = built
    assert list(main.argv[3:]) == [
        "migrate", "--live", "--persistent", "--undefinesource", "--p2p", "--auto-converge", "--postcopy",
        "--compressed", "--unsafe", "--copy-storage-all", "--bandwidth", "64", "--verbose", "web1",
        "qemu+tcp://10.0.0.2/system", "--migrateuri", "tcp://10.0.0.2"]
    assert downtime.argv[3:] == ("migrate-setmaxdowntime", "web1", "300") and downtime.note
    assert switch.argv[3:] == ("migrate-postcopy", "web1") and switch.note


def test_it_leaves_out_what_an_offline_shared_migration_does_not_use():
    (command,) = commands.migrate(URI, "web1", "qemu+tcp://b/system", live=False, undefine_source=False,
                                  tunnelled=True, migration_address="10.0.0.2")
    assert "--live" not in command.argv and "--undefinesource" not in command.argv
    assert "--migrateuri" not in command.argv  # a tunnelled migration goes through libvirtd's own connection


def test_it_deletes_with_named_volumes_and_nvram():
    (command,) = commands.delete(URI, "web1", ["/var/lib/libvirt/images/web1.qcow2", "/x/y z.raw"])
    assert list(command.argv[3:]) == ["undefine", "web1", "--managed-save", "--snapshots-metadata", "--nvram",
                                      "--storage", "/var/lib/libvirt/images/web1.qcow2,/x/y z.raw"]


def test_it_converts_with_qemu_img_on_the_host():
    (command,) = commands.convert("/p/a.raw", "raw", "/p/a.qcow2", "qcow2", "metadata")
    assert command.argv == ("qemu-img", "convert", "-p", "-f", "raw", "-O", "qcow2", "-o", "preallocation=metadata",
                            "/p/a.raw", "/p/a.qcow2")
    assert command.note
    assert "-S" in commands.convert("/p/a.qcow2", "qcow2", "/p/a.raw", "raw", "thick")[0].argv


def test_it_defines_starts_and_autostarts_a_network():
    assert words(commands.network_define(URI, "lan", "lan.xml", autostart=True)) == [
        ["virsh", "-c", URI, "net-define", "lan.xml"], ["virsh", "-c", URI, "net-start", "lan"],
        ["virsh", "-c", URI, "net-autostart", "lan"]]


def test_it_sets_a_maximum_before_the_value():
    assert words(commands.set_memory(URI, "web1", 2097152, maximum_kib=4194304)) == [
        ["virsh", "-c", URI, "setmaxmem", "web1", "4194304K", "--config"],
        ["virsh", "-c", URI, "setmem", "web1", "2097152K", "--config"]]
    assert words(commands.set_vcpus(URI, "web1", 2, live=True))[0][-2:] == ["--live", "--config"]
