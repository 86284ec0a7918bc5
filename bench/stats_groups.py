"""Cost of each getAllDomainStats group on the real lab QEMU (not part of `make bench`).

Starts a few 256 MiB TCG guests on the lab libvirtd (qemu+tcp://127.0.0.1:16509/system, made
with lab/guest.py, so lab/down would remove them too), times getAllDomainStats for the group
sets below, then destroys and undefines its guests and deletes their disks. The lab must be
up (lab/up); this script never starts or stops it.

    .venv/bin/python bench/stats_groups.py [GUESTS]     # default 4
"""
import shutil
import statistics
import sys
import time
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "lab"))

from guest import define_and_start  # noqa: E402  (lab/guest.py)

from virt.inventory import STATS_GROUPS  # noqa: E402
from virtdeck.daemons import wait_for  # noqa: E402

URI = "qemu+tcp://127.0.0.1:16509/system"
DISKS = ROOT / "var" / "bench" / "disks"
S = libvirt
SETS = [
    ("state", S.VIR_DOMAIN_STATS_STATE),
    ("state+cpu-total", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL),
    ("state+cpu-total+interface", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL
     | S.VIR_DOMAIN_STATS_INTERFACE),
    ("state+cpu-total+balloon", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL | S.VIR_DOMAIN_STATS_BALLOON),
    ("state+cpu-total+vcpu", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL | S.VIR_DOMAIN_STATS_VCPU),
    ("state+cpu-total+block", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL | S.VIR_DOMAIN_STATS_BLOCK),
    ("state+cpu-total+balloon+vcpu (list/API)", S.VIR_DOMAIN_STATS_STATE | S.VIR_DOMAIN_STATS_CPU_TOTAL
     | S.VIR_DOMAIN_STATS_BALLOON | S.VIR_DOMAIN_STATS_VCPU),
    ("virt.inventory.STATS_GROUPS (all six)", STATS_GROUPS),
]


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(URI)
    names = [f"bench-stats-{i}" for i in range(count)]
    doms = []
    try:
        for name in names:
            doms.append(define_and_start(conn, name, str(DISKS)))
        # Measure booted guests: SeaBIOS has read each (empty) disk once it has settled.
        wait_for(lambda: all(st.get("block.0.rd.reqs", 0) > 0
                             for _, st in conn.domainListGetStats(doms, libvirt.VIR_DOMAIN_STATS_BLOCK, 0)),
                 30, interval=0.2, what="guests to boot")
        total = len(conn.listAllDomains(0))
        print(f"{count} running TCG guests ({total} domains on the host), libvirt {libvirt.getVersion()}")
        for label, groups in SETS:
            conn.getAllDomainStats(groups, 0)
            runs = []
            for _ in range(30):
                t = time.perf_counter()
                conn.getAllDomainStats(groups, 0)
                runs.append((time.perf_counter() - t) * 1000)
            print(f"  {label:40s} median {statistics.median(runs):6.2f} ms  "
                  f"({statistics.median(runs) / count:5.2f} ms per running guest)")
    finally:
        for dom in doms:
            try:
                dom.destroy()
            except libvirt.libvirtError:
                pass
            try:
                dom.undefine()
            except libvirt.libvirtError:
                pass
        for name in names:
            (DISKS / f"{name}.qcow2").unlink(missing_ok=True)
        if DISKS.exists() and not any(DISKS.iterdir()):
            shutil.rmtree(DISKS, ignore_errors=True)
        conn.close()


if __name__ == "__main__":
    main()
