"""Where a volume transfer's CPU goes, process by process: two daphnes and virsh take turns under one
system-wide `perf record`, and each sample is put to the transfer running at its time and to its process.

Run as root, with the lab up (lab/up) and `perf` (Debian's linux-perf) installed:

    .venv/bin/python bench/storage_transfer_perf.py upload|download [--rounds 16] [--mib 256]
        [--env-a JSON] [--env-b JSON]

Daphnes A and B run the same code; what differs is their environment (--env-a, --env-b: JSON objects of
variables, e.g. '{"VIRTDECK_STREAMED_DIRECT_IO": "0"}'). With neither, A and B are alike: how far they
differ is the noise floor. Each round runs A, B and virsh (V), in turn, in an order that alternates. On this
machine, whose speed changes by a third between runs, comparing variants in the same minutes is the only
comparison that holds (bench/README.md, "Volume upload and download"). Downloads go to /dev/null on every side.

Prints, per side: MiB/s (median and best), perf samples per GiB (about 4,000 per CPU second) of daphne, the
client (the bench's HTTP client, or virsh), libvirtd's main thread, libvirtd's other threads and its I/O
helpers, other processes, idle, and all busy; then the top symbols of daphne and of libvirtd's main thread.
Works in var/bench/transfer/ as bench/storage_transfer.py does (own database, pool, Redis if none answers).
"""
import argparse
import bisect
import collections
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import storage_transfer as transfer  # noqa: E402
from bench.console import stop, wait_port  # noqa: E402
from core.testing import free_port, random_file  # noqa: E402

SIDES = ("A", "B", "V")
PERF_START_SECONDS = 60
WHO = ("daphne", "client", "libvirtd main", "libvirtd other", "other", "idle")


def timed_transfer(side, direction, daphnes, token, pool, volume, source, virsh_pids):
    """(start, end) on the monotonic clock (perf's with -k CLOCK_MONOTONIC) of one transfer by `side`."""
    started = time.monotonic()
    if side == "V":
        args = (["vol-upload", "--pool", pool.name, volume.name, str(source)] if direction == "upload"
                else ["vol-download", "--pool", pool.name, volume.name, os.devnull])
        process = subprocess.Popen([*transfer.VIRSH, *args])
        virsh_pids.add(process.pid)
        if process.wait():
            raise SystemExit(f"virsh {args[0]} failed")
    elif direction == "upload":
        transfer.http_upload(daphnes[side][1], token, volume, source)
    else:
        transfer.http_download(daphnes[side][1], token, volume, None)
    return started, time.monotonic()


def start_perf(output):
    """`perf record -a` into `output`, returned once it records: it starts with its events off (-D -1) and
    answers "ack" on its control pipe when told to enable them. Returns (the process, the control pipe's end,
    which stays open while perf runs: stop_perf closes it)."""
    control_read, control_write = os.pipe()
    ack_read, ack_write = os.pipe()
    perf = subprocess.Popen(["perf", "record", "-a", "-k", "CLOCK_MONOTONIC", "-D", "-1",
                             "--control", f"fd:{control_read},{ack_write}", "-o", str(output)],
                            pass_fds=(control_read, ack_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(control_read)
    os.close(ack_write)
    try:
        os.write(control_write, b"enable\n")
        ready, _, _ = select.select([ack_read], [], [], PERF_START_SECONDS)
        if not ready or not os.read(ack_read, 16).startswith(b"ack"):
            stop_perf(perf, control_write)
            raise SystemExit(f"perf record did not start recording within {PERF_START_SECONDS} s")
    finally:
        os.close(ack_read)
    return perf, control_write


def stop_perf(perf, control):
    """Stop the perf we started (it writes its file and exits on SIGINT), then close its control pipe."""
    if perf.poll() is None:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=120)
    os.close(control)


def classify(pid, tid, comm, side, daphne_pids, libvirtd, client_pids):
    if pid == 0:
        return "idle"
    if pid == libvirtd:
        return "libvirtd main" if tid == libvirtd else "libvirtd other"
    if comm.startswith("libvirt_iohelp"):
        return "libvirtd other"
    if pid in daphne_pids:
        return "daphne" if daphne_pids[pid] == side else "other"
    return "client" if pid in client_pids else "other"


def attribute(script, windows, daphne_pids, libvirtd, client_pids):
    """Samples of `perf script -F comm,pid,tid,time,ip,sym` output by (side, who), and their symbols."""
    windows.sort()
    starts = [start for start, _, _ in windows]
    counts, symbols = collections.Counter(), collections.defaultdict(collections.Counter)
    for line in script.splitlines():
        head, _, rest = line.partition(": ")  # "comm pid/tid time" ": " "ip symbol"
        fields = head.rsplit(None, 2)
        if len(fields) != 3 or "/" not in fields[1]:
            continue
        comm, ids, clock = fields
        pid, tid = (int(value) for value in ids.split("/"))
        at = float(clock)
        index = bisect.bisect_right(starts, at) - 1
        if index < 0 or at > windows[index][1]:
            continue  # between transfers
        side = windows[index][2]
        who = classify(pid, tid, comm, side, daphne_pids, libvirtd, client_pids)
        counts[side, who] += 1
        symbols[side, who][(rest.split(None, 1)[1:] or ["?"])[0].strip()] += 1
    return counts, symbols


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("direction", choices=("upload", "download"))
    parser.add_argument("--rounds", type=int, default=16, help="transfers per side (default 16)")
    parser.add_argument("--mib", type=int, default=256, help="MiB per transfer (default 256)")
    parser.add_argument("--env-a", type=json.loads, default={}, help="daphne A's extra environment (JSON)")
    parser.add_argument("--env-b", type=json.loads, default={}, help="daphne B's extra environment (JSON)")
    args = parser.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (Debian: apt install linux-perf)")

    transfer.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    pool_dir = transfer.BENCH_DIR / "pool"
    shutil.rmtree(pool_dir, ignore_errors=True)
    pool_dir.mkdir()
    token, pool, redis_started = transfer.setup_virtdeck(pool_dir)
    from django.conf import settings

    from storage import services
    from virtdeck import daemons

    source, perf_data = transfer.BENCH_DIR / "source.bin", transfer.BENCH_DIR / "perf.data"
    daphnes, perf = {}, None
    try:
        volume = services.create_volume(pool, "bench.raw", args.mib * transfer.MIB)
        random_file(source, args.mib * transfer.MIB)
        for side, env in (("A", args.env_a), ("B", args.env_b)):
            port = free_port()
            process = transfer.start_process([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                              "virtdeck.asgi:application"], f"daphne-{side}", env)
            wait_port(port, process)
            daphnes[side] = (process, port)
            transfer.http_upload(port, token, volume, source)  # warm-up: imports, the host's connection
        libvirtd = int((transfer.LAB_DIR / "libvirtd.pid").read_text())
        perf = start_perf(perf_data)
        windows, virsh_pids = [], set()
        for round_number in range(args.rounds):
            for side in SIDES if round_number % 2 == 0 else SIDES[::-1]:
                os.sync()
                start, end = timed_transfer(side, args.direction, daphnes, token, pool, volume, source, virsh_pids)
                windows.append((start, end, side))
        stop_perf(*perf)
        perf = None
        script = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "comm,pid,tid,time,ip,sym"],
                                capture_output=True, text=True, check=True).stdout
        daphne_pids = {process.pid: side for side, (process, _) in daphnes.items()}
        counts, symbols = attribute(script, list(windows), daphne_pids, libvirtd, virsh_pids | {os.getpid()})
        report(args, windows, counts, symbols)
    finally:
        if perf is not None:
            stop_perf(*perf)
        for process, _ in daphnes.values():
            stop(process)
        source.unlink(missing_ok=True)
        perf_data.unlink(missing_ok=True)
        transfer._remove_pool(pool.name)
        shutil.rmtree(pool_dir, ignore_errors=True)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)


def report(args, windows, counts, symbols):
    gib = args.rounds * args.mib / 1024
    print(f"\n{args.direction}, {args.rounds} x {args.mib} MiB per side; A {json.dumps(args.env_a)}, "
          f"B {json.dumps(args.env_b)}, V virsh\n")
    print("| side | MiB/s median (best) | " + " | ".join(WHO) + " | busy |")
    print("|---|---|" + "---|" * (len(WHO) + 1))
    for side in SIDES:
        seconds = [end - start for start, end, who in windows if who == side]
        per_gib = [counts[side, who] / gib for who in WHO]
        busy = sum(per_gib) - per_gib[WHO.index("idle")]
        print(f"| {side} | {args.mib / statistics.median(seconds):.0f} ({args.mib / min(seconds):.0f}) | "
              + " | ".join(f"{value:,.0f}" for value in per_gib) + f" | {busy:,.0f} |")
    print()
    for side in SIDES:
        for who in ("daphne", "client", "libvirtd main"):
            total = sum(symbols[side, who].values())
            if total:
                top = ", ".join(f"{name[:40]} {100 * count / total:.0f}%"
                                for name, count in symbols[side, who].most_common(8))
                print(f"{side} {who}: {top}")


if __name__ == "__main__":
    main()
