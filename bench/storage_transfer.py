"""Volume upload and download through virtdeck vs `virsh vol-upload` / `vol-download`, on the lab libvirtd.

Run: `.venv/bin/python bench/storage_transfer.py [--mib 256] [--rounds 3]` (the lab must be up: lab/up).
Figures: bench/README.md.

One raw volume of --mib MiB in a dir pool of its own (var/bench/transfer/pool, removed at the end with the
pool), one file of random bytes. Each round, interleaved so both see the same background load:

- upload: `virsh -c qemu+tcp://127.0.0.1:16509/system vol-upload` of the file, then virtdeck's
  `PUT /api/storage/volumes/{id}/upload/` of the same file through daphne (a named API token), http.client
  sending 1 MiB blocks;
- download: `virsh vol-download` to a file, then virtdeck's `GET .../download/` written to a file; and both
  again into /dev/null (the disk's share, the same on both sides, left out).

MiB/s per path (median of --rounds, and of each side's best run: noise only adds time), virtdeck's ratio to
virsh (goal: at least 0.9); the CPU seconds per GiB each side spends (virsh's process; daphne's and the HTTP
client's thread: on a 2-core machine every process in the path competes for the same cores), libvirtd's under
each (its I/O helpers included) and how many cores the whole machine kept busy; daphne's peak RSS growth and
CPU seconds. Before each transfer: no file to replace, `sync` (none pays
for the previous one's writeback). The last download and the volume are checked byte for byte (sha256).
Everything lives under var/bench/transfer/ (own SQLite database, Redis socket); a private Redis is started and
stopped if none answers there.
"""
import argparse
import http.client
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench" / "transfer"
sys.path.insert(0, str(ROOT))

from bench.console import stop, wait_port  # noqa: E402
from core.testing import file_sha256 as sha256  # noqa: E402
from core.testing import free_port, random_file  # noqa: E402

QEMU = "qemu+tcp://127.0.0.1:16509/system"
LAB_DIR = Path(os.environ.get("LAB_DIR") or ROOT / "var" / "lab")  # as lab/lib.sh
MIB = 2**20


def log(message):
    print(message, flush=True)


def setup_virtdeck(pool_dir):
    """A fresh bench database with a user, its token, the lab host, a dir pool and nothing else; a private Redis
    if none answers (events are published as objects are made). Returns (token, pool, whether Redis was started)."""
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR, keep_files=True)  # the pool's directory is there already
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts.models import ApiToken
    from hosts.models import Host
    from hosts.services import create_host
    from storage import services

    from virtdeck import daemons

    _, redis_started = daemons.start_redis(settings.RUN_DIR)
    # A superuser: the volume routes show a user only the volumes its grants reach (access/).
    user = get_user_model().objects.create_superuser("bench", password=os.urandom(8).hex())
    host = create_host(Host(name="lab", uri=QEMU))
    pool = services.create_pool(host, "dir", f"vd-bench-{uuid.uuid4().hex[:8]}", {"target_path": str(pool_dir)})
    return ApiToken.issue(user, "bench")[1], pool, redis_started


def start_process(argv, name):
    log_file = open(BENCH_DIR / f"{name}.log", "w")
    return subprocess.Popen(argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, env=dict(os.environ),
                            start_new_session=True)


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def virsh(*args):
    subprocess.run(["virsh", "-q", "-c", QEMU, *args], check=True, capture_output=True)


def http_upload(port, token, volume, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MIB)
    with open(path, "rb") as body:
        connection.request("PUT", f"/api/storage/volumes/{volume.pk}/upload/", body=body,
                           headers={"Content-Length": str(path.stat().st_size), "Authorization": f"Token {token}"})
        response = connection.getresponse()
        answer = response.read()
    if response.status != 200:
        raise SystemExit(f"virtdeck upload answered {response.status}: {answer[:500]!r}")


def http_download(port, token, volume, path):
    """GET the volume into `path`, or into nothing (None: as virsh writes to /dev/null)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", f"/api/storage/volumes/{volume.pk}/download/",
                       headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"virtdeck download answered {response.status}: {response.read()[:500]!r}")
    block = memoryview(bytearray(MIB))
    with open(path or os.devnull, "wb") as out:
        while count := response.readinto(block):
            if path is not None:
                out.write(block[:count])


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu():
    """This thread's: the HTTP client's (the process's other threads, libvirt's event loop among them, are not
    part of a transfer)."""
    return time.thread_time()


def process_cpu(pid, reaped_children=False):
    """CPU seconds of the process; with reaped_children, also of its children that have ended (libvirtd's I/O
    helper, one per stream)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15 if reaped_children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """CPU seconds the whole machine has spent busy (all but idle and iowait), all cores together."""
    fields = [int(value) for value in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="MiB per transfer (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    size = args.mib * MIB

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    pool_dir = BENCH_DIR / "pool"
    shutil.rmtree(pool_dir, ignore_errors=True)
    pool_dir.mkdir()
    token, pool, redis_started = setup_virtdeck(pool_dir)
    from django.conf import settings

    from storage import services
    from virtdeck import daemons

    source, copy, virsh_copy = BENCH_DIR / "source.bin", BENCH_DIR / "copy.bin", BENCH_DIR / "virsh-copy.bin"
    daphne = None
    try:
        volume = services.create_volume(pool, "bench.raw", size)
        expected = random_file(source, size)
        port = free_port()
        daphne = start_process([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "virtdeck.asgi:application"], "daphne")
        wait_port(port, daphne)
        http_download(port, token, volume, copy)  # warm-up: daphne imports the views and connects to the host
        rss_before, cpu_before = peak_rss_mib(daphne.pid), process_cpu(daphne.pid)
        libvirtd = int((LAB_DIR / "libvirtd.pid").read_text())
        paths = {  # direction: (virsh's way, virtdeck's way)
            "upload": (lambda: virsh("vol-upload", "--pool", pool.name, volume.name, str(source)),
                       lambda: http_upload(port, token, volume, source)),
            "download to a file": (lambda: virsh("vol-download", "--pool", pool.name, volume.name, str(virsh_copy)),
                                   lambda: http_download(port, token, volume, copy)),
            "download to /dev/null": (lambda: virsh("vol-download", "--pool", pool.name, volume.name, os.devnull),
                                      lambda: http_download(port, token, volume, None)),
        }
        times = {(direction, who): [] for direction in paths for who in ("virsh", "virtdeck")}
        cpu_used = {key: [] for key in times}
        for round_number in range(args.rounds):
            for direction, (by_virsh, by_virtdeck) in paths.items():
                for who, transfer in (("virsh", by_virsh), ("virtdeck", by_virtdeck)):
                    # Each starts with no file to replace and nothing dirty to write back: a download into a file
                    # the other side has just written waits for the kernel to drop its pages.
                    copy.unlink(missing_ok=True)
                    virsh_copy.unlink(missing_ok=True)
                    os.sync()
                    # CPU seconds of: virsh, or the HTTP client (this thread); daphne; libvirtd with its I/O
                    # helpers; the whole machine (how near the cores' limit the transfer ran).
                    before = (children_cpu() + own_cpu(), process_cpu(daphne.pid),
                              process_cpu(libvirtd, reaped_children=True), machine_cpu())
                    times[direction, who].append(timed(transfer))
                    after = (children_cpu() + own_cpu(), process_cpu(daphne.pid),
                             process_cpu(libvirtd, reaped_children=True), machine_cpu())
                    cpu_used[direction, who].append([later - earlier for later, earlier in zip(after, before)])
            log(f"round {round_number + 1}: " + ", ".join(f"{who} {direction} {values[-1]:.2f} s"
                                                          for (direction, who), values in times.items()))
        http_download(port, token, volume, copy)
        if sha256(copy) != expected:
            raise SystemExit("virtdeck's download differs from the uploaded file")
        virsh("vol-download", "--pool", pool.name, volume.name, str(copy))
        if sha256(copy) != expected:
            raise SystemExit("the volume differs from the uploaded file")
        rss_grown, cpu = peak_rss_mib(daphne.pid) - rss_before, process_cpu(daphne.pid) - cpu_before
        log(f"\n{args.mib} MiB, median of {args.rounds} (each side's best run in brackets: noise only adds time); "
            f"load average {os.getloadavg()[0]:.1f}\n")
        log("| path | virsh MiB/s | virtdeck MiB/s | virtdeck / virsh | CPU s per GiB: virsh | virtdeck: daphne + "
            "client | libvirtd under virsh | under virtdeck | cores busy: virsh | virtdeck |")
        log("|---|---|---|---|---|---|---|---|---|---|")
        per_gib = 1024 / args.mib
        for direction in paths:
            rate = {who: args.mib / statistics.median(times[direction, who]) for who in ("virsh", "virtdeck")}
            best = {who: args.mib / min(times[direction, who]) for who in ("virsh", "virtdeck")}
            # Per GiB, medians: (virsh's or the client's own, daphne's, libvirtd's) CPU seconds; and how many of
            # the cores were busy during the transfer.
            spent = {who: [statistics.median(values) * per_gib for values in zip(*cpu_used[direction, who])]
                     for who in ("virsh", "virtdeck")}
            busy = {who: statistics.median(used[3] / seconds for used, seconds
                                           in zip(cpu_used[direction, who], times[direction, who]))
                    for who in ("virsh", "virtdeck")}
            log(f"| {direction} | {rate['virsh']:.0f} ({best['virsh']:.0f}) | "
                f"{rate['virtdeck']:.0f} ({best['virtdeck']:.0f}) | "
                f"{rate['virtdeck'] / rate['virsh']:.2f}x ({best['virtdeck'] / best['virsh']:.2f}x) | "
                f"{spent['virsh'][0]:.2f} | {spent['virtdeck'][1]:.2f} + {spent['virtdeck'][0]:.2f} | "
                f"{spent['virsh'][2]:.2f} | {spent['virtdeck'][2]:.2f} | {busy['virsh']:.2f} | {busy['virtdeck']:.2f} |")
        log(f"\ndaphne: peak RSS +{rss_grown:.1f} MiB, {cpu:.1f} CPU s for {len(paths) * args.rounds} transfers of "
            f"{args.mib} MiB; bytes checked identical (sha256)")
    finally:
        if daphne is not None:
            stop(daphne)
        source.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
        virsh_copy.unlink(missing_ok=True)
        _remove_pool(pool.name)  # with its volume, straight through libvirt: whatever state the run left
        shutil.rmtree(pool_dir, ignore_errors=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)


def _remove_pool(name):
    import libvirt

    from virt.tests.test_lab_storage import remove_pool

    conn = libvirt.open(QEMU)
    try:
        remove_pool(conn, name)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
