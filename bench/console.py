"""Console proxy benchmark: virtdeck's VNC websocket proxy vs websockify vs a raw TCP connection.

Run: `.venv/bin/python bench/console.py [--mib 256] [--rounds 3] [--pings 2000]`. Figures: bench/README.md.

All three paths reach the same TCP source on 127.0.0.1, a stand-in VNC server run as its own process (`--source`):
it does the RFB 3.8 handshake (security None) and ServerInit, then on request either blasts N bytes as fast as it
can (throughput) or echoes 8-byte messages (round-trip latency). One client (the `websockets` library for both
websocket paths, asyncio streams for raw TCP), in one run:

- raw TCP: the client connects to the source itself: the physical limit of this machine.
- websockify 0.13 (PyPI, the proxy noVNC ships with), `python -m websockify`: it serves each connection in a
  child process, whose CPU is counted once the parent has reaped it.
- virtdeck: daphne serving virtdeck.asgi (the real path: origin check, session middleware, single-use ticket,
  the proxy's own RFB handshake with the source, then pass-through), the VM being a libvirt test-driver domain
  whose live XML says VNC is on the source's port.

Throughput: MiB/s of --mib MiB, median of --rounds rounds, paths interleaved, one connection each, with the CPU
seconds the source and the proxy (all its processes) spent on it and the load average. Latency: then --pings round
trips of 8 bytes on a connection of its own per path, p50/p95; "added" is the path's p50 minus raw TCP's.
Everything lives under var/bench/console/ (own SQLite database, Redis socket); a private Redis is started and
stopped if none answers there.
"""
import argparse
import asyncio
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench" / "console"
sys.path.insert(0, str(ROOT))

from core.testing import free_port  # noqa: E402

SERVER_INIT = struct.pack(">HH", 720, 400) + bytes(16) + struct.pack(">I", 5) + b"bench"
BLAST_PIECE = 1024 * 1024


def log(message):
    print(message, flush=True)


def process_cpu(pid):
    """User + system CPU seconds a process and the children it has reaped have used so far (/proc/PID/stat).

    websockify serves each connection in a child process of its own (multiprocessing, reaped on SIGCHLD):
    its CPU shows in the parent's only once reaped, so this waits for the parent to have no child left.
    """
    deadline = time.monotonic() + 10
    while any(Path(task, "children").read_text().split() for task in Path(f"/proc/{pid}/task").iterdir()):
        if time.monotonic() > deadline:
            raise SystemExit(f"process {pid} keeps a child process: its CPU cannot be counted")
        time.sleep(0.05)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


# --------------------------------------------------------------------------- the source (its own process)

async def serve_source(reader, writer):
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        writer.write(b"RFB 003.008\n")
        await reader.readexactly(12)
        writer.write(bytes([1, 1]))
        await reader.readexactly(1)
        writer.write(struct.pack(">I", 0))
        await reader.readexactly(1)  # ClientInit
        writer.write(SERVER_INIT)
        while True:
            command = await reader.readexactly(9)
            kind, amount = command[:1], struct.unpack(">Q", command[1:])[0]
            if kind == b"T":  # blast `amount` bytes
                piece = bytes(BLAST_PIECE)
                while amount > 0:
                    writer.write(piece[:min(amount, BLAST_PIECE)])
                    amount -= BLAST_PIECE
                    await writer.drain()
            elif kind == b"P":  # echo `amount` 8-byte pings
                for _ in range(amount):
                    writer.write(await reader.readexactly(8))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def run_source(port):
    async def main():
        server = await asyncio.start_server(serve_source, "127.0.0.1", port, limit=4 * BLAST_PIECE)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --------------------------------------------------------------------------- the client (one per path)

class Raw:
    name = "raw TCP"

    def __init__(self, port):
        self.port = port

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=8 * BLAST_PIECE)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def send(self, data):
        self.writer.write(data)

    async def recv(self):
        data = await self.reader.read(8 * BLAST_PIECE)
        if not data:
            raise ConnectionError("closed")
        return data

    async def close(self):
        self.writer.close()


class Websocket:
    def __init__(self, name, url_maker, origin):
        self.name, self.url_maker, self.origin = name, url_maker, origin

    async def open(self):
        import websockets

        self.ws = await websockets.connect(self.url_maker(), origin=self.origin, subprotocols=["binary"],
                                           max_size=None, compression=None, open_timeout=30)

    async def send(self, data):
        await self.ws.send(data)

    async def recv(self):
        return await self.ws.recv()

    async def close(self):
        await self.ws.close()


class Session:
    """RFB as the browser speaks it, over any path, with exact reads across messages."""

    def __init__(self, path):
        self.path = path
        self.buffer = bytearray()

    async def read(self, count):
        while len(self.buffer) < count:
            self.buffer += await self.path.recv()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    async def start(self):
        await self.path.open()
        assert await self.read(12) == b"RFB 003.008\n"
        await self.path.send(b"RFB 003.008\n")
        assert await self.read(2) == bytes([1, 1])
        await self.path.send(bytes([1]))
        assert await self.read(4) == bytes(4)
        await self.path.send(bytes([1]))
        assert await self.read(len(SERVER_INIT)) == SERVER_INIT

    async def throughput(self, total):
        await self.path.send(b"T" + struct.pack(">Q", total))
        got = len(self.buffer)
        self.buffer.clear()
        started, cpu = time.perf_counter(), time.process_time()
        messages = 0
        while got < total:
            got += len(await self.path.recv())
            messages += 1
        elapsed = time.perf_counter() - started
        self.client_cpu = (time.process_time() - cpu) / elapsed
        self.messages = messages
        return total / elapsed / 2**20

    async def latency(self, count):
        await self.path.send(b"P" + struct.pack(">Q", count))
        times = []
        for i in range(count):
            ping = struct.pack(">Q", i)
            started = time.perf_counter()
            await self.path.send(ping)
            assert await self.read(8) == ping
            times.append(time.perf_counter() - started)
        return times


async def measure_throughput(path, mib):
    session = Session(path)
    await session.start()
    try:
        rate = await session.throughput(mib * 2**20)
        path.messages, path.client_cpu = session.messages, session.client_cpu
    finally:
        await path.close()
    return rate


async def measure_latency(path, pings):
    session = Session(path)
    await session.start()
    try:
        return await session.latency(pings)
    finally:
        await path.close()


# --------------------------------------------------------------------------- virtdeck's side

def setup_virtdeck(source_port):
    """A fresh bench database with a user granted the console of a test-driver host's running VM whose VNC is
    on the source's port."""
    from bench.django_setup import fresh_database

    fresh_database(BENCH_DIR, allow_test_driver=True)
    from django.contrib.auth import get_user_model
    from lxml import etree

    node = etree.Element("node")
    dom = etree.SubElement(node, "domain", type="test")
    etree.SubElement(dom, "name").text = "bench-vm"
    etree.SubElement(dom, "uuid").text = "0be4c400-0000-4000-8000-000000000001"  # the same in every process
    etree.SubElement(dom, "memory").text = "262144"
    etree.SubElement(etree.SubElement(dom, "os"), "type").text = "hvm"
    etree.SubElement(etree.SubElement(dom, "devices"), "graphics", type="vnc", port=str(source_port),
                     autoport="no", listen="127.0.0.1")
    node_file = BENCH_DIR / "nodes" / "console.xml"
    node_file.parent.mkdir(parents=True, exist_ok=True)
    node_file.write_bytes(etree.tostring(node, pretty_print=True))

    from access.models import Grant, Role
    from hosts.models import Host
    from hosts.services import create_host
    from instances.models import Instance

    user = get_user_model().objects.create_user("bench", password=os.urandom(8).hex())
    create_host(Host(name="bench", uri=f"test://{node_file}"))
    vm = Instance.objects.get(name="bench-vm")
    Grant.objects.create(user=user, role=Role.OPERATOR, instance=vm, console=True)  # the console, nothing more
    return user, vm


def start_process(argv, name, env=None):
    log_file = open(BENCH_DIR / f"{name}.log", "w")
    return subprocess.Popen(argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})},
                            start_new_session=True)


def wait_port(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process {process.args[:3]} exited: see {BENCH_DIR}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # daphne (and cProfile) end cleanly on it
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            pass
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mib", type=int, default=256, help="MiB per throughput round (default 256)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per path (default 3)")
    parser.add_argument("--pings", type=int, default=2000, help="round trips per path (default 2000)")
    args = parser.parse_args()
    if args.source:
        return run_source(args.source)

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    source_port, websockify_port, daphne_port = free_port(), free_port(), free_port()
    user, vm = setup_virtdeck(source_port)
    from django.conf import settings

    from console import tickets
    from virtdeck import daemons

    _, redis_started = daemons.start_redis(settings.RUN_DIR)
    processes = []
    try:
        source = start_process([sys.executable, __file__, "--source", str(source_port)], "source")
        processes.append(source)
        websockify = start_process([sys.executable, "-m", "websockify", f"127.0.0.1:{websockify_port}",
                                    f"127.0.0.1:{source_port}"], "websockify")
        processes.append(websockify)
        profile = ["-m", "cProfile", "-o", str(BENCH_DIR / "daphne.prof")] if os.environ.get("BENCH_PROFILE") else []
        daphne = start_process([sys.executable, *profile, "-m", "daphne", "-b", "127.0.0.1", "-p", str(daphne_port),
                                "virtdeck.asgi:application"], "daphne")
        processes.append(daphne)
        for port, process in ((source_port, source), (websockify_port, websockify), (daphne_port, daphne)):
            wait_port(port, process)

        def virtdeck_url():
            ticket, _ = tickets.issue(user, vm, "vnc")
            return f"ws://127.0.0.1:{daphne_port}/ws/instances/{vm.pk}/vnc/?ticket={ticket}"

        paths = [
            lambda: Raw(source_port),
            lambda: Websocket("websockify", lambda: f"ws://127.0.0.1:{websockify_port}/",
                              f"http://127.0.0.1:{websockify_port}"),
            lambda: Websocket("virtdeck", virtdeck_url, f"http://127.0.0.1:{daphne_port}"),
        ]
        names = [make().name for make in paths]
        cpu_of = {"raw TCP": [source], "websockify": [source, websockify], "virtdeck": [source, daphne]}
        rates = {name: [] for name in names}
        times = {}
        log(f"console proxy benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"{args.mib} MiB x {args.rounds} rounds, {args.pings} pings")
        asyncio.run(measure_throughput(paths[2](), 8))  # warm-up: imports, the first libvirt connection
        for round_number in range(args.rounds):
            for make in paths:  # interleaved: machine noise hits every path alike
                path = make()
                before = [process_cpu(p.pid) for p in cpu_of[path.name]]
                rate = asyncio.run(measure_throughput(path, args.mib))
                server_cpu = [process_cpu(p.pid) - b for p, b in zip(cpu_of[path.name], before)]
                rates[path.name].append(rate)
                log(f"  round {round_number + 1}: {path.name:10} {rate:8.0f} MiB/s  ({path.messages} reads, "
                    f"client CPU {path.client_cpu:.0%}; CPU seconds source/proxy "
                    f"{'/'.join(f'{c:.2f}' for c in server_cpu)}; load {os.getloadavg()[0]:.1f})")
        for make in paths:  # a connection of its own: the throughput rounds leave no backlog behind
            path = make()
            times[path.name] = asyncio.run(measure_latency(path, args.pings))
        print_table(names, rates, times)
    finally:
        for process in processes:
            stop(process)
        if redis_started:
            daemons.stop_redis(settings.RUN_DIR)


def print_table(names, rates, times):
    raw_p50 = statistics.median(times["raw TCP"])
    websockify_rate = statistics.median(rates["websockify"])
    log("")
    log(f"{'path':12} {'MiB/s (median)':>15} {'all rounds':>24} {'vs websockify':>14} {'p50 RTT':>9} {'p95 RTT':>9} "
        f"{'added p50':>10}")
    for name in names:
        rate = statistics.median(rates[name])
        samples = sorted(times[name])
        p50, p95 = statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]
        log(f"{name:12} {rate:15.0f} {' '.join(f'{r:.0f}' for r in rates[name]):>24} "
            f"{rate / websockify_rate:13.2f}x {p50 * 1e6:7.0f}us {p95 * 1e6:7.0f}us {(p50 - raw_p50) * 1e6:8.0f}us")
    virtdeck_ratio = statistics.median(rates["virtdeck"]) / websockify_rate
    added = (statistics.median(times["virtdeck"]) - raw_p50) * 1e3
    log(f"goal: >= 0.9x websockify's throughput: {virtdeck_ratio:.2f}x "
        f"({'met' if virtdeck_ratio >= 0.9 else 'NOT met'}); added p50 < 0.5 ms: {added:.3f} ms "
        f"({'met' if added < 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
