"""The precheck's rules (instances.migration.verdict) and the job's figures: pure, no libvirt."""
from types import SimpleNamespace

import pytest

from hosts.models import Host
from instances.migration import verdict
from instances.migration_tasks import remaining_by_iteration, percent
from virt import migration as virt_migration

UP = SimpleNamespace(state=Host.State.UP, last_error="")
DISK = "/var/lib/libvirt/images/vm.raw"


def vm(**changes):
    return {"uuid": "11111111-1111-4111-8111-111111111111", "name": "vm", "active": True, "memory_kib": 262144,
            "virt_type": "qemu", "arch": "x86_64", "machine": "pc-i440fx-7.2", "emulator": "/usr/bin/qemu-system-x86_64",
            "cpu_mode": None, "cpu_xml": None, "host_cpu_xml": None, "networks": ["default"], "bridges": [],
            "disks": [{"target": "vda", "path": DISK, "readonly": False, "capacity": 2**20}], **changes}


def facts(**changes):
    return {"free_memory_kib": 2**21, "machines": ["pc", "pc-i440fx-7.2"], "emulators": ["/usr/bin/qemu-system-x86_64"],
            "cpu": {"ok": None, "detail": "default CPU model"}, "networks": {"default": True}, "bridges": {},
            "clash": None, "disks": {DISK: {"seen": False, "pool_type": None}},
            "pools": [{"name": "local", "type": "dir", "path": "/var/lib/libvirt/images", "available": 2**30}],
            **changes}


def test_it_lets_a_fitting_host_take_the_vm_with_a_storage_copy():
    result = verdict(vm(), UP, facts())
    assert result == {"can": True, "reasons": [], "warnings": [], "storage": "copy_all", "needs_unsafe": False}


@pytest.mark.parametrize("vm_changes, fact_changes, expected", [
    ({"active": False}, {}, "The VM is not running"),
    ({}, {"cpu": {"ok": False, "detail": "incompatible"}}, "CPU is not compatible with this host's: incompatible"),
    ({}, {"networks": {"default": False}}, "network 'default' does not exist or is not active"),
    ({"bridges": ["br0"]}, {"bridges": {"br0": False}}, "bridge 'br0' does not exist"),
    ({}, {"emulators": []}, "no emulator /usr/bin/qemu-system-x86_64 for x86_64"),
    ({}, {"machines": ["pc"]}, "does not offer the machine type pc-i440fx-7.2"),
    ({}, {"clash": "vm"}, "same name or UUID is already defined there: vm"),
    ({}, {"free_memory_kib": 1024}, "needs 256 MiB, the host has 1 MiB free"),
    ({}, {"pools": []}, "needs a storage pool at /var/lib/libvirt/images"),
    ({}, {"pools": [{"name": "local", "type": "dir", "path": "/var/lib/libvirt/images", "available": 10}]},
     "Pool local has 0 MiB free"),
])
def test_it_says_why_a_host_cannot_take_the_vm(vm_changes, fact_changes, expected):
    result = verdict(vm(**vm_changes), UP, facts(**fact_changes))
    assert not result["can"]
    assert any(expected in reason for reason in result["reasons"]), result["reasons"]


def test_it_says_why_when_the_host_is_down_or_did_not_answer():
    down = SimpleNamespace(state=Host.State.UNREACHABLE, last_error="Connection refused")
    assert verdict(vm(), down, None)["reasons"] == ["The host is not reachable: Connection refused"]
    assert verdict(vm(), UP, None, error="timed out")["reasons"] == ["The host could not be asked: timed out"]


def test_it_explains_that_a_plain_directory_both_hosts_see_needs_unsafe():
    result = verdict(vm(), UP, facts(disks={DISK: {"seen": True, "pool_type": "dir"}}))
    assert result["can"] and result["storage"] == "shared" and result["needs_unsafe"]
    assert "plain directory" in result["warnings"][0] and "unsafe" in result["warnings"][0]


def test_it_trusts_storage_libvirt_knows_to_be_shared():
    result = verdict(vm(), UP, facts(disks={DISK: {"seen": True, "pool_type": "netfs"}}))
    assert result["can"] and result["storage"] == "shared" and not result["needs_unsafe"] and not result["warnings"]


def test_it_refuses_disks_half_shared():
    other = "/srv/b.raw"
    result = verdict(vm(disks=[*vm()["disks"], {"target": "vdb", "path": other, "readonly": False, "capacity": 1}]),
                     UP, facts(disks={DISK: {"seen": True, "pool_type": "dir"}, other: {"seen": False,
                                                                                          "pool_type": None}}))
    assert not result["can"] and "Some disks are on storage this host sees" in result["reasons"][0]


def test_it_maps_options_to_libvirt_flags_and_parameters():
    import libvirt

    options = virt_migration.Options(storage="copy_all", unsafe=True, max_bandwidth_mib=8, tunnelled=False)
    flags = virt_migration.flags(options)
    for flag in (libvirt.VIR_MIGRATE_LIVE, libvirt.VIR_MIGRATE_PEER2PEER, libvirt.VIR_MIGRATE_PERSIST_DEST,
                 libvirt.VIR_MIGRATE_UNDEFINE_SOURCE, libvirt.VIR_MIGRATE_NON_SHARED_DISK, libvirt.VIR_MIGRATE_UNSAFE):
        assert flags & flag
    assert not flags & libvirt.VIR_MIGRATE_POSTCOPY
    assert virt_migration.params(options, "10.0.0.2") == {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 8,
                                                           libvirt.VIR_MIGRATE_PARAM_URI: "tcp://10.0.0.2"}
    assert virt_migration.params(options, "fd00::2")[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://[fd00::2]"
    assert virt_migration.params(virt_migration.Options(tunnelled=True), "10.0.0.2") == {}


def test_it_turns_job_stats_into_figures_and_a_bar():
    job = {"active": True, "elapsed_ms": 900, "data_processed": 30, "data_remaining": 70, "data_total": 100,
           "stats": {"memory_total": 100, "memory_remaining": 70, "memory_iteration": 2, "memory_dirty_rate": 5,
                     "downtime": 300}}
    sample = virt_migration.progress(job)
    assert sample["phase"] == "iterating" and sample["memory_percent"] == 30.0
    assert sample["expected_downtime_ms"] == 300 and sample["memory_dirty_rate"] == 5
    assert percent(sample) == pytest.approx(32.0)
    assert percent({"data_processed": 0, "data_remaining": 0}) == 5
    assert remaining_by_iteration([{"memory_iteration": 1, "memory_remaining": 9},
                                    {"memory_iteration": 1, "memory_remaining": 5},
                                    {"memory_iteration": 2, "memory_remaining": 1}]) == [[1, 5], [2, 1]]
