"""The storage benchmark: fio against raw and qcow2, thin and thick volumes of a pool, on the pool's host.

Each measurement runs on a fresh volume made through libvirt in the chosen pool, exported by `qemu-nbd` (QEMU's
block layer, as a VM's disk is read: a qcow2 volume is measured as qcow2, not as a plain file) on a unix socket in
a private directory on the host, and read or written by `fio --ioengine=nbd`. Both run through hosts.shell (this
machine, or SSH with the host's pinned key), from argument lists built from checked values only. The volume, the
socket and the directory are removed afterwards whatever happened.

Parsing and argument building are pure; storage/benchmark_services.py starts the job for pages and API.
"""
import json
import re
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hosts.models import parse_host_uri
from virt.errors import InvalidValue, OperationInvalid

MIB = 2**20

# kind -> (volume format, allocation policy of virt.volumes).
KINDS = {
    "raw-thin": ("raw", "thin"),
    "raw-thick": ("raw", "thick"),
    "qcow2-thin": ("qcow2", "thin"),
    "qcow2-metadata": ("qcow2", "metadata"),
    "qcow2-thick": ("qcow2", "thick"),
}
KIND_LABELS = {
    "raw-thin": gettext_lazy("raw, thin (sparse)"),
    "raw-thick": gettext_lazy("raw, thick (preallocated)"),
    "qcow2-thin": gettext_lazy("qcow2, thin"),
    "qcow2-metadata": gettext_lazy("qcow2, metadata preallocated"),
    "qcow2-thick": gettext_lazy("qcow2, thick (falloc)"),
}
# workload -> fio's --rw.
WORKLOADS = {"seqwrite": "write", "randwrite": "randwrite", "seqread": "read", "randread": "randread"}
WORKLOAD_LABELS = {
    "seqwrite": gettext_lazy("sequential write"),
    "randwrite": gettext_lazy("random write"),
    "seqread": gettext_lazy("sequential read"),
    "randread": gettext_lazy("random read"),
}
BLOCK_SIZES = {"4k": 4096, "64k": 65536, "1m": MIB}
# Volumes whose data is a file on the host (qemu-nbd opens the path); the other pool types are refused.
FILE_POOL_TYPES = ("dir", "fs", "netfs")

SIZE_MIN, SIZE_MAX = 16 * MIB, 1024 * MIB
RUNTIME_MIN, RUNTIME_MAX = 1, 60
IODEPTH_MAX = 64
TOTAL_SECONDS_MAX = 600  # kinds x workloads x runtime: a benchmark is a short look, not a soak test
PERCENTILES = ("50.000000", "95.000000", "99.000000")


@dataclass(frozen=True)
class BenchmarkSpec:
    """What to measure; every value checked on creation (InvalidValue naming the field)."""

    kinds: tuple = ("raw-thin", "raw-thick", "qcow2-thin", "qcow2-metadata")
    workloads: tuple = ("seqwrite", "randwrite", "seqread", "randread")
    block_size: str = "4k"
    iodepth: int = 16
    size: int = 64 * MIB
    runtime: int = 5

    def __post_init__(self):
        object.__setattr__(self, "kinds", _choices("kinds", self.kinds, KINDS))
        object.__setattr__(self, "workloads", _choices("workloads", self.workloads, WORKLOADS))
        if self.block_size not in BLOCK_SIZES:
            raise InvalidValue("block_size", _("block_size: expected one of %(choices)s.")
                               % {"choices": ", ".join(BLOCK_SIZES)})
        _whole("iodepth", self.iodepth, 1, IODEPTH_MAX)
        _whole("size", self.size, SIZE_MIN, SIZE_MAX)
        if self.size % MIB:
            raise InvalidValue("size", _("size: expected a whole number of MiB (a multiple of 1048576 bytes)."))
        _whole("runtime", self.runtime, RUNTIME_MIN, RUNTIME_MAX)
        if self.runs * self.runtime > TOTAL_SECONDS_MAX:
            raise InvalidValue("runtime", _("runtime: %(runs)s runs of %(runtime)s s exceed the %(max)s s a "
                                            "benchmark may take; pick fewer kinds or workloads, or a shorter "
                                            "runtime.") % {"runs": self.runs, "runtime": self.runtime,
                                                           "max": TOTAL_SECONDS_MAX})

    @property
    def runs(self):
        return len(self.kinds) * len(self.workloads)

    def as_dict(self):
        return {**asdict(self), "kinds": list(self.kinds), "workloads": list(self.workloads)}


def _choices(name, values, allowed):
    if isinstance(values, str) or not isinstance(values, (list, tuple)) or not values:
        raise InvalidValue(name, _("%(field)s: expected a non-empty list of %(choices)s.")
                           % {"field": name, "choices": ", ".join(allowed)})
    unknown = [str(value)[:40] for value in values if not isinstance(value, str) or value not in allowed]
    if unknown:
        raise InvalidValue(name, _("%(field)s: unknown %(values)s; expected some of %(choices)s.")
                           % {"field": name, "values": ", ".join(unknown), "choices": ", ".join(allowed)})
    return tuple(key for key in allowed if key in values)  # the table's order, each once


def _whole(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(name, _("%(field)s: expected a whole number from %(low)s to %(high)s, got %(value)s.")
                           % {"field": name, "low": low, "high": high, "value": repr(value)[:40]})


# --------------------------------------------------------------------------- command lines (pure)

def nbd_server_argv(path, volume_format, socket_path, pid_path):
    """qemu-nbd serving the volume through QEMU's block layer, cache=none as a VM disk commonly has it.

    --fork returns once the socket listens; --persistent keeps serving after fio's connection closes.
    """
    return ["qemu-nbd", "--fork", "--persistent", f"--pid-file={pid_path}", f"--socket={socket_path}",
            f"--format={volume_format}", "--cache=none", "--aio=native", path]


def fio_argv(spec, workload, socket_path):
    """fio over NBD: one pass over the volume (random runs touch each block once), capped at the runtime.

    Reads first fill the volume (a sequential write in its own fio job, not reported): a never-written block of
    a thin volume reads as zeros without touching the disk, which would measure nothing.
    """
    common = ["fio", "--output-format=json", "--ioengine=nbd", f"--uri=nbd+unix:///?socket={socket_path}",
              f"--size={spec.size}"]
    fill = []
    if workload in ("seqread", "randread"):
        fill = ["--name=fill", "--rw=write", "--bs=1m", "--iodepth=8"]
    return [*common, *fill, "--name=measure", "--stonewall", f"--rw={WORKLOADS[workload]}",
            f"--bs={BLOCK_SIZES[spec.block_size]}", f"--iodepth={spec.iodepth}", f"--runtime={spec.runtime}"]


# --------------------------------------------------------------------------- fio's answer (pure)

class FioOutputError(ValueError):
    pass


def parse_fio(text, workload):
    """The "measure" job's figures from fio's JSON: iops, bytes/s, completion latency percentiles in µs.

    fio's NBD engine prints "fio: connected to NBD server" before the JSON: the document starts at the first
    line that opens an object.
    """
    match = re.search(r"^\{", text, re.MULTILINE)
    if match is None:
        raise FioOutputError(_("fio printed no JSON: %(start)s") % {"start": text.strip()[:200]})
    try:
        document = json.loads(text[match.start():])
    except ValueError as exc:
        raise FioOutputError(_("fio's JSON could not be read: %(error)s") % {"error": exc}) from None
    measured = [job for job in document.get("jobs", []) if job.get("jobname") == "measure"]
    if not measured:
        raise FioOutputError(_("fio's JSON has no measure job."))
    job = measured[0]
    if job.get("error"):
        raise FioOutputError(_("fio reported error %(code)s.") % {"code": job["error"]})
    side = job["read" if workload in ("seqread", "randread") else "write"]
    percentiles = side.get("clat_ns", {}).get("percentile", {})
    return {
        "iops": round(float(side["iops"]), 1),
        "bandwidth": int(side["bw_bytes"]),  # bytes per second
        "io_bytes": int(side["io_bytes"]),
        "runtime_ms": int(side["runtime"]),
        "latency_us": {key.split(".")[0]: round(percentiles[key] / 1000, 1) for key in PERCENTILES
                       if key in percentiles},
        "latency_mean_us": round(float(side.get("clat_ns", {}).get("mean", 0)) / 1000, 1),
    }


@dataclass
class Measurement:
    kind: str
    workload: str
    iops: float
    bandwidth: int
    io_bytes: int
    runtime_ms: int
    latency_us: dict = field(default_factory=dict)
    latency_mean_us: float = 0.0
    allocation_after: int = 0  # bytes the volume held on the host when the run ended

    def as_dict(self):
        return asdict(self)


# --------------------------------------------------------------------------- the service

def shell_refusal(host):
    """Why the benchmark cannot run on `host` ('' when it can): fio runs there, so virtdeck needs a shell."""
    parsed = parse_host_uri(host.uri)
    if parsed.has_shell:
        return ""
    return _("%(host)s is reached over %(scheme)s: virtdeck has no shell there to run fio. Add the host over "
             "qemu+ssh (or qemu:///system on this machine) to benchmark its storage.") % {
        "host": host.name, "scheme": parsed.scheme}


def check_pool(pool, spec):
    """Refuse (with the reason) a pool the benchmark cannot use: inactive, not file-based, too full."""
    if pool.type not in FILE_POOL_TYPES:
        raise InvalidValue("pool", _("pool: %(pool)s is a %(type)s pool; the benchmark needs a pool of files "
                                     "(%(types)s).") % {"pool": pool, "type": pool.type,
                                                        "types": ", ".join(FILE_POOL_TYPES)})
    if not pool.is_active:
        raise OperationInvalid(_("Pool %(pool)s is not running: start it first.") % {"pool": pool})
    thick = any(KINDS[kind][1] == "thick" for kind in spec.kinds)
    needed = spec.size * 2 if thick else spec.size  # one volume at a time; a qcow2 holds its tables too
    if pool.available and pool.available < needed:
        raise InvalidValue("size", _("size: %(pool)s has %(free)s MiB free; this benchmark needs %(needed)s MiB.")
                           % {"pool": pool, "free": pool.available // MIB, "needed": needed // MIB})
