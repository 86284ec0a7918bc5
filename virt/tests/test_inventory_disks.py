"""virt.inventory's `disks`: (target, path) pairs from the block stats the sync already asks for, no extra RPC.

The stats dicts are what the lab's libvirtd (QEMU) reported for one domain with a file disk (vda), a
`<disk type='volume'>` (vdb) and a CD-ROM without media (sda), shut off then running.
"""
import libvirt

from virt.inventory import STATS_GROUPS, disks_from_stats, record_from_stats

SHUT_OFF = {"state.state": 5, "state.reason": 0, "block.count": 3, "block.0.name": "vda",
            "block.0.path": "/srv/pool/file.qcow2", "block.0.allocation": 200704, "block.0.capacity": 67108864,
            "block.0.physical": 196616, "block.1.name": "vdb", "block.2.name": "sda"}
RUNNING = {"state.state": 1, "state.reason": 1, "block.count": 3, "block.0.name": "vda",
           "block.0.path": "/srv/pool/file.qcow2", "block.0.backingIndex": 3, "block.0.rd.bytes": 512,
           "block.1.name": "vdb", "block.1.path": "/srv/pool/v.qcow2", "block.1.backingIndex": 2,
           "block.1.rd.bytes": 0, "block.2.name": "sda", "block.2.rd.bytes": 0}


def test_it_reads_each_disk_with_a_path_sorted_by_target():
    assert disks_from_stats(RUNNING) == (("vda", "/srv/pool/file.qcow2"), ("vdb", "/srv/pool/v.qcow2"))


def test_it_leaves_out_disks_without_a_path():
    # vdb, a volume disk, has a path only while QEMU runs; sda, an empty CD-ROM, never.
    assert disks_from_stats(SHUT_OFF) == (("vda", "/srv/pool/file.qcow2"),)
    assert disks_from_stats({"block.count": 1, "block.0.name": "sda"}) == ()


def test_it_tells_unknown_disks_from_no_disks():
    assert disks_from_stats({"state.state": 1}) is None  # no block group at all: libvirt's test driver
    assert disks_from_stats({"block.count": 0}) == ()


def test_it_puts_the_disks_in_the_record_only_when_the_host_reports_them():
    conn = libvirt.open("test:///default")
    try:
        dom, stats = conn.getAllDomainStats(STATS_GROUPS, 0)[0]
        assert "block.count" not in stats  # the test driver has no block stats
        assert "disks" not in record_from_stats(dom, stats)
        assert record_from_stats(dom, {**stats, **SHUT_OFF})["disks"] == (("vda", "/srv/pool/file.qcow2"),)
    finally:
        conn.close()
