"""Volume upload and download through virtdeck vs `virsh vol-upload` / `vol-download`, on the lab libvirtd.

Run: `.venv/bin/python bench/storage_transfer.py [--mib 256] [--rounds 3]` (the lab must be up: lab/up).
Figures: bench/README.md.

One raw volume of --mib MiB in a dir pool of its own (var/bench/transfer/pool, removed at the end with the
pool), one file of random bytes. Each round, interleaved so both see the same background load:

- upload: `virsh -c qemu+tcp://127.0.0.1:16509/system vol-upload` of the file, then virtdeck's
  `PUT /api/storage/volumes/{id}/upload/` of the same file through daphne (a named API token), http.client
  sending 1 MiB blocks;
- download: `virsh vol-download` to a file, then virtdeck's `GET .../download/` written to a file (FILE_WRITE
  bytes at a time, as virsh writes); and both again into /dev/null (the disk's share, the same on both sides,
  left out);
- each path a third way, "virsh | cat": virsh with its bytes handed over by a second process through a pipe
  (`cat file | virsh vol-upload ... /dev/stdin`, `virsh vol-download ... /dev/stdout | cat > file`). That is
  about the least a web path adds on the same cores: the HTTP client is such a second process, which reads the
  file and writes a socket (or reads a socket and writes the file), and the server does what virsh does
  (receive, encode, send; or receive, decode, send). On a machine whose cores the transfer keeps busy,
  virtdeck's ratio to this one says how much of what is left is virtdeck's own.

MiB/s per path (median of --rounds, and of each side's best run: noise only adds time), virtdeck's ratio to
virsh (goal: at least 0.9) and to "virsh | cat"; the CPU seconds per GiB each side spends (virsh's process, with
cat's; daphne's and the HTTP client's thread: on a 2-core machine every process in the path competes for the
same cores), libvirtd's under each (its I/O helpers included) and how many cores the whole machine kept busy;
daphne's peak RSS growth and CPU seconds. Before each transfer: no file to replace, `sync` (none pays
for the previous one's writeback). The last download and the volume are checked byte for byte (sha256).
Everything lives under var/bench/transfer/ (own SQLite database, Redis socket); a private Redis is started and
stopped if none answers there.
"""
import argparse
import fcntl
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
VIRSH = ["virsh", "-q", "-c", QEMU]
LAB_DIR = Path(os.environ.get("LAB_DIR") or ROOT / "var" / "lab")  # as lab/lib.sh
MIB = 2**20
# What the HTTP client writes to the file at a time: what virsh writes (one stream message). Writes of 1 MiB make
# the kernel take large page-cache folios, which on this VM (its free memory is given back to the hypervisor: free
# page reporting) are often not backed yet: the first touch of each cost the client 1.6-1.7 CPU s per GiB
# instead of 0.5 (2026-12-01, bench/README.md); 128 and 256 KiB writes never did.
FILE_WRITE = 256 * 1024
# The pipe between cat and virsh: a 64 KiB one (Linux's default) makes virsh send 64 KiB stream messages.
PIPE_SIZE = MIB


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


def start_process(argv, name, env=None):
    """Start `argv` in a session of its own, its output in var/bench/transfer/NAME.log; `env`: variables to set."""
    log_file = open(BENCH_DIR / f"{name}.log", "w")
    return subprocess.Popen(argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def virsh(*args):
    subprocess.run([*VIRSH, *args], check=True, capture_output=True)


def piped_virsh(direction, pool, volume, path):
    """virsh, with `cat` moving the bytes between the file (None: /dev/null) and virsh through a pipe."""
    if direction == "upload":
        feeder = subprocess.Popen(["cat", str(path)], stdout=subprocess.PIPE)
        fcntl.fcntl(feeder.stdout, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        taker = subprocess.Popen([*VIRSH, "vol-upload", "--pool", pool.name, volume.name, "/dev/stdin"],
                                 stdin=feeder.stdout, stderr=subprocess.PIPE)
    else:
        feeder = subprocess.Popen([*VIRSH, "vol-download", "--pool", pool.name, volume.name, "/dev/stdout"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        fcntl.fcntl(feeder.stdout, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        with open(path or os.devnull, "wb") as out:
            taker = subprocess.Popen(["cat"], stdin=feeder.stdout, stdout=out)
    feeder.stdout.close()  # the pipe's ends are the two processes' only
    if taker.wait() or feeder.wait():
        raise SystemExit(f"virsh | cat failed: {(feeder.stderr or taker.stderr).read()[:500]!r}")


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
                for start in range(0, count, FILE_WRITE):
                    out.write(block[start:min(count, start + FILE_WRITE)])


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
        paths = {  # direction: (virsh's way, virsh | cat, virtdeck's way)
            "upload": (lambda: virsh("vol-upload", "--pool", pool.name, volume.name, str(source)),
                       lambda: piped_virsh("upload", pool, volume, source),
                       lambda: http_upload(port, token, volume, source)),
            "download to a file": (lambda: virsh("vol-download", "--pool", pool.name, volume.name, str(virsh_copy)),
                                   lambda: piped_virsh("download", pool, volume, virsh_copy),
                                   lambda: http_download(port, token, volume, copy)),
            "download to /dev/null": (lambda: virsh("vol-download", "--pool", pool.name, volume.name, os.devnull),
                                      lambda: piped_virsh("download", pool, volume, None),
                                      lambda: http_download(port, token, volume, None)),
        }
        sides = ("virsh", "virsh | cat", "virtdeck")
        times = {(direction, who): [] for direction in paths for who in sides}
        cpu_used = {key: [] for key in times}
        for round_number in range(args.rounds):
            for direction, ways in paths.items():
                for who, transfer in zip(sides, ways):
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
        log("| path | virsh MiB/s | virsh \\| cat MiB/s (/ virsh) | virtdeck MiB/s | virtdeck / virsh | "
            "virtdeck / virsh \\| cat | CPU s per GiB: virsh | virsh \\| cat | virtdeck: daphne + client | "
            "libvirtd under virsh / virsh \\| cat / virtdeck | cores busy: virsh / virsh \\| cat / virtdeck |")
        log("|---|---|---|---|---|---|---|---|---|---|---|")
        per_gib = 1024 / args.mib
        for direction in paths:
            rate = {who: args.mib / statistics.median(times[direction, who]) for who in sides}
            best = {who: args.mib / min(times[direction, who]) for who in sides}
            # Per GiB, medians: (virsh's (and cat's) or the client's own, daphne's, libvirtd's) CPU seconds; and how
            # many of the cores were busy during the transfer.
            spent = {who: [statistics.median(values) * per_gib for values in zip(*cpu_used[direction, who])]
                     for who in sides}
            busy = {who: statistics.median(used[3] / seconds for used, seconds
                                           in zip(cpu_used[direction, who], times[direction, who]))
                    for who in sides}

            def ratio(who, to):
                return f"{rate[who] / rate[to]:.2f}x ({best[who] / best[to]:.2f}x)"

            piped = "virsh | cat"
            log(f"| {direction} | {rate['virsh']:.0f} ({best['virsh']:.0f}) | "
                f"{rate[piped]:.0f} ({best[piped]:.0f}): {ratio(piped, 'virsh')} | "
                f"{rate['virtdeck']:.0f} ({best['virtdeck']:.0f}) | {ratio('virtdeck', 'virsh')} | "
                f"{ratio('virtdeck', piped)} | {spent['virsh'][0]:.2f} | {spent[piped][0]:.2f} | "
                f"{spent['virtdeck'][1]:.2f} + {spent['virtdeck'][0]:.2f} | "
                + " / ".join(f"{spent[who][2]:.2f}" for who in sides) + " | "
                + " / ".join(f"{busy[who]:.2f}" for who in sides) + " |")
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
