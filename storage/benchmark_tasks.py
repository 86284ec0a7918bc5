"""The benchmark job (storage/benchmark.py says what it measures): volumes through libvirt, qemu-nbd and fio
through hosts.shell, everything it made removed at the end whatever happened."""
import contextlib
import re
import subprocess
import threading
import time

from django.utils.translation import gettext as _

from core.jobs import JobCancelled, JobTask
from hosts import shell
from hosts.connection import call
from virt import storage as virt_storage
from virt import volumes as virt_volumes
from virt.errors import OperationFailed, Unsupported, VirtError, scrub
from virtdeck.celery import app

from . import inventory
from .benchmark import KINDS, BenchmarkSpec, FioOutputError, Measurement, fio_argv, nbd_server_argv, parse_fio, \
    shell_refusal
from .models import StoragePool

_WORKDIR = re.compile(r"^/[A-Za-z0-9._/-]+$")
FILL_SECONDS_MAX = 120  # a read run's fill pass writes the whole volume first (at most SIZE_MAX)
VOLUME_CALL_SECONDS = 300


def _run(host, argv, timeout=30):
    try:
        return shell.run(host, argv, timeout=timeout)
    except shell.HostShellError as exc:
        raise OperationFailed(f"{argv[0]} on {host.name} failed: {exc}") from None


@contextlib.contextmanager
def cleaned_up(job, what, undo):
    """Run undo() on the way out. Its failure fails the job only when the work went well; otherwise it is logged
    and the work's own error is the one the job reports."""
    try:
        yield
    except BaseException:
        try:
            undo()
        except VirtError as exc:
            job.log(f"{what}: {exc.message}", level="warning")
        raise
    undo()


class HostWorkdir:
    """A private directory on the host (mktemp -d) for qemu-nbd's socket and pid file; removed by exact names."""

    def __init__(self, host):
        self.host = host
        self.path = _run(host, ["mktemp", "-d", "-t", "virtdeck-bench.XXXXXXXX"]).strip()
        if not _WORKDIR.match(self.path):
            raise OperationFailed(f"mktemp on {host.name} answered an unexpected path {self.path[:80]!r}")

    def file(self, name):
        return f"{self.path}/{name}"

    def remove(self):
        _run(self.host, ["rmdir", self.path])


class NbdServer:
    """qemu-nbd exporting one volume on a unix socket in the workdir; stopped by the pid it wrote."""

    def __init__(self, host, workdir, path, volume_format):
        self.host = host
        self.socket = workdir.file("nbd.sock")
        self.pid_file = workdir.file("nbd.pid")
        _run(host, nbd_server_argv(path, volume_format, self.socket, self.pid_file))

    def stop(self):
        pid = _run(self.host, ["cat", self.pid_file]).strip()
        if pid.isdigit():
            _run(self.host, ["kill", pid])
            self._wait_gone(pid)
        # qemu-nbd removes its socket when it exits; removing both here lets the workdir go at once.
        _run(self.host, ["rm", "-f", "--", self.socket, self.pid_file])

    def _wait_gone(self, pid, seconds=10):
        """Until qemu-nbd has exited (a zombie counts as gone: its parent, not us, reaps it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                state = shell.run(self.host, ["ps", "-o", "stat=", "-p", pid], timeout=10).strip()
            except shell.HostShellError:
                return  # ps finds no such process
            if not state or state.startswith("Z"):
                return
            time.sleep(0.2)
        raise OperationFailed(f"qemu-nbd (pid {pid}) on {self.host.name} did not exit within {seconds} s")


class FioRun:
    """fio as a child process of ours (stopped by its handle on cancel); its output collected by a thread."""

    def __init__(self, host, argv):
        self._process = subprocess.Popen(shell.argv_for(host, argv), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output = ("", "")
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self):
        self.output = self._process.communicate()

    def stop(self):
        """Ask fio to stop, and wait until it has (killed if it takes longer than 10 s)."""
        if self._process.poll() is None:
            self._process.terminate()
            if not self.wait(10):
                self._process.kill()
                self.wait(10)

    def wait(self, timeout):
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def returncode(self):
        return self._process.returncode


class StorageBenchmark(JobTask):
    """fio on fresh raw/qcow2, thin/thick volumes of a pool: IOPS, bandwidth and latency per kind and workload."""

    name = "storage.benchmark_tasks.storage_benchmark"
    kind = "storage_benchmark"

    def execute(self, job, pool_id, spec):
        spec = BenchmarkSpec(**spec)
        pool = StoragePool.objects.select_related("host").get(pk=pool_id)
        host = pool.host
        refusal = shell_refusal(host)
        if refusal:
            raise Unsupported(refusal)
        workdir = HostWorkdir(host)
        job.log(_("working directory on %(host)s: %(path)s") % {"host": host.name, "path": workdir.path})
        current = {"fio": None}
        job.on_cancel(lambda: current["fio"] and current["fio"].stop())
        measurements = []

        def remove_workdir_and_reread_pool():
            workdir.remove()
            inventory.apply_pool(host, call(host, lambda conn: virt_storage.collect_pool(conn, pool.name)))

        with cleaned_up(job, "removing the working directory", remove_workdir_and_reread_pool):
            runs = [(kind, workload) for kind in spec.kinds for workload in spec.workloads]
            for index, (kind, workload) in enumerate(runs):
                job.progress(100 * index // len(runs), f"{kind}: {workload}")
                measurements.append(self._measure(job, pool, workdir, spec, kind, workload, current,
                                                  (index, len(runs))))
        job.progress(100, _("%(count)s runs measured") % {"count": len(measurements)})
        return {"pool": pool.pk, "pool_name": pool.name, "host": host.pk, "host_name": host.name,
                "spec": spec.as_dict(), "results": [measurement.as_dict() for measurement in measurements]}

    def _measure(self, job, pool, workdir, spec, kind, workload, current, position):
        host = pool.host
        volume_format, allocation = KINDS[kind]
        name = f"virtdeck-bench-{job.id}-{kind}-{workload}.{volume_format}"
        # A thick volume is written in full where the filesystem cannot fallocate, so creating (and deleting) may
        # outlast the usual call bound: VOLUME_CALL_SECONDS instead. On the host's shared connection: a connection
        # of its own (run_long) per volume would cost an SSH handshake each.
        record = call(host, lambda conn: virt_volumes.create_volume(conn, pool.name, name, spec.size,
                                                                    volume_format=volume_format,
                                                                    allocation=allocation),
                      timeout=VOLUME_CALL_SECONDS)

        def delete():
            call(host, lambda conn: virt_volumes.delete_volume(conn, pool.name, name), timeout=VOLUME_CALL_SECONDS)

        with cleaned_up(job, f"deleting {name}", delete):
            server = NbdServer(host, workdir, record.path, volume_format)
            with cleaned_up(job, "stopping qemu-nbd", server.stop):
                figures = self._fio(job, host, spec, workload, server.socket, current, position)
            after = call(host, lambda conn: virt_volumes.collect_volume(conn, pool.name, name))
        job.log(_("%(kind)s %(workload)s: %(iops)s IOPS, %(mib)s MiB/s")
                % {"kind": kind, "workload": workload, "iops": figures["iops"], "mib": figures["bandwidth"] // 2**20})
        return Measurement(kind=kind, workload=workload, allocation_after=after.allocation if after else 0, **figures)

    def _fio(self, job, host, spec, workload, socket_path, current, position):
        run = FioRun(host, fio_argv(spec, workload, socket_path))
        current["fio"] = run
        started, limit = time.monotonic(), spec.runtime + FILL_SECONDS_MAX + 30
        index, total = position
        try:
            while not run.wait(0.5):
                elapsed = time.monotonic() - started
                job.progress(100 * index // total + min(99, 100 * elapsed / spec.runtime) // total)
                if elapsed > limit:
                    run.stop()
        finally:
            current["fio"] = None
            run.stop()
        if job.cancelled.is_set():
            raise JobCancelled()
        stdout, stderr = run.output
        if run.returncode != 0:
            lines = [line for line in (stderr or stdout).splitlines() if line.strip()]
            raise OperationFailed(f"fio on {host.name} failed: {scrub(lines[-1]) if lines else run.returncode}")
        try:
            return parse_fio(stdout, workload)
        except FioOutputError as exc:
            raise OperationFailed(str(exc)) from None


storage_benchmark = app.register_task(StorageBenchmark())
