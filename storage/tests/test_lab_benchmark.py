"""The fio benchmark job on this machine (qemu:///system: the lab's libvirtd, and a shell here), in a dir pool in
tmp_path. Checked outside virtdeck: the pool directory, `virsh vol-list`, the host-side working directory and
the processes that could have outlived the job."""
import subprocess
import threading
from pathlib import Path

import pytest
from django.urls import reverse

from core import jobs
from core.models import Job
from core.testing import eventually
from storage import benchmark_tasks, services
from storage.benchmark import MIB

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
BENCHMARKS = "/api/storage/benchmarks/"


@pytest.fixture
def local_pool(lab, make_host, pool_names, tmp_path):
    host = make_host("local", uri="qemu:///system")  # this machine: virtdeck runs qemu-nbd and fio here
    return services.create_pool(host, "dir", pool_names(), {"target_path": str(tmp_path)})


def processes_mentioning(text):
    """Live processes (zombies have no command line) whose command line holds `text`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue  # ended while we looked
    return found


def run_benchmark(api, pool, **body):
    response = api.post(BENCHMARKS, {"pool": pool.pk, **body}, format="json")
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(reverse("api-core:job-detail", args=[response.json()["id"]]))
    job = Job.objects.get(pk=response.json()["id"])
    benchmark_tasks.storage_benchmark.run(job.pk, **job.params)
    job.refresh_from_db()
    return job


def test_it_measures_each_kind_and_workload_and_leaves_nothing_behind(lab, api, local_pool, tmp_path):
    job = run_benchmark(api, local_pool, kinds=["raw-thin", "raw-thick", "qcow2-thin"],
                        workloads=["randwrite", "randread"], block_size="4k", iodepth=4, size=16 * MIB, runtime=2)
    assert job.status == "succeeded", (job.error, job.log)
    results = job.result["results"]
    assert [(r["kind"], r["workload"]) for r in results] == [
        ("raw-thin", "randwrite"), ("raw-thin", "randread"), ("raw-thick", "randwrite"), ("raw-thick", "randread"),
        ("qcow2-thin", "randwrite"), ("qcow2-thin", "randread")]
    for result in results:
        assert result["iops"] > 0 and result["bandwidth"] > 0, result
        assert 0 < result["io_bytes"] <= 16 * MIB, result
        assert set(result["latency_us"]) == {"50", "95", "99"}, result
        assert result["latency_us"]["50"] <= result["latency_us"]["99"], result
        # fio's own figures agree with each other: IOPS x 4 KiB x seconds is the bytes it moved.
        moved = result["iops"] * 4096 * result["runtime_ms"] / 1000
        assert abs(moved - result["io_bytes"]) <= 0.1 * result["io_bytes"], result
        # What was written is on the host: libvirt's allocation of the volume holds at least those bytes.
        assert result["allocation_after"] >= result["io_bytes"], result
    # Nothing left: no volume file, no volume in libvirt, no working directory, no qemu-nbd or fio.
    assert list(tmp_path.iterdir()) == []
    listing = subprocess.run(["virsh", "-q", "-c", lab["uri"], "vol-list", local_pool.name], check=True,
                             capture_output=True, text=True).stdout
    assert listing.strip() == ""
    workdir = next(entry["message"].rsplit(": ", 1)[1] for entry in job.log if "working directory" in entry["message"])
    assert workdir.startswith("/tmp/virtdeck-bench.") and not Path(workdir).exists()
    assert processes_mentioning(workdir) == []
    assert not local_pool.volumes.exists()


def test_it_fails_cleanly_when_fio_fails_and_removes_its_volume(lab, api, local_pool, tmp_path, monkeypatch):
    # fio refuses an unknown --rw; no input can produce one (the spec checks every value), so the argument list
    # is bent here to make a real fio fail on the real host.
    real = benchmark_tasks.fio_argv
    monkeypatch.setattr(benchmark_tasks, "fio_argv", lambda *a: [*real(*a), "--rw=nonsense"])
    job = run_benchmark(api, local_pool, kinds=["qcow2-thin"], workloads=["seqwrite"], size=16 * MIB, runtime=1)
    assert job.status == "failed" and "fio on local failed" in job.error, (job.error, job.log)
    assert list(tmp_path.iterdir()) == []
    workdir = next(entry["message"].rsplit(": ", 1)[1] for entry in job.log if "working directory" in entry["message"])
    assert not Path(workdir).exists() and processes_mentioning(workdir) == []


@pytest.mark.django_db(transaction=True)  # the job runs in a thread of its own, on its own database connection
def test_it_cancels_a_run_and_still_removes_what_it_made(lab, api, local_pool, tmp_path):
    response = api.post(BENCHMARKS, {"pool": local_pool.pk, "kinds": ["raw-thin", "qcow2-thin"],
                                     "workloads": ["randwrite"], "block_size": "4k", "iodepth": 1,
                                     "size": 1024 * MIB, "runtime": 60}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    worker = threading.Thread(target=lambda: benchmark_tasks.storage_benchmark.run(job.pk, **job.params))
    worker.start()
    try:
        # fio is writing once the volume exists and the run's first progress tick has landed
        eventually(lambda: any(path.name.startswith("virtdeck-bench-") for path in tmp_path.iterdir())
                   and Job.objects.get(pk=job.pk).progress > 0, timeout=60, message="fio running")
        assert jobs.request_cancel(Job.objects.get(pk=job.pk))
    finally:
        worker.join(timeout=120)
    job.refresh_from_db()
    assert job.status == "cancelled" and not worker.is_alive(), (job.status, job.log)
    assert list(tmp_path.iterdir()) == []
    workdir = next(entry["message"].rsplit(": ", 1)[1] for entry in job.log if "working directory" in entry["message"])
    assert not Path(workdir).exists() and processes_mentioning(workdir) == []
    assert not any("qcow2-thin" in entry["message"] for entry in job.log)  # the second kind never started


def test_it_runs_over_ssh_on_a_host_reached_over_ssh(api, two_hosts, make_host):
    """hostA of the two-host lab over qemu+ssh (pinned key): qemu-nbd and fio run there through ssh."""
    import shutil
    import uuid

    import libvirt

    from virt.tests.test_lab_storage import remove_pool

    a = two_hosts["a"]
    host = make_host(host_name="hostA-ssh", uri=f"qemu+ssh://root@{a['address']}/system",
                     ssh_private_key=two_hosts["ssh_key"].read_text(),
                     ssh_known_hosts=two_hosts["known_hosts"].read_text())
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    directory = two_hosts["shared"] / name  # hostA sees the shared directory at the same path
    directory.mkdir()
    try:
        pool = services.create_pool(host, "dir", name, {"target_path": str(directory)})
        job = run_benchmark(api, pool, kinds=["raw-thin", "qcow2-thin"], workloads=["seqwrite"], size=16 * MIB,
                            runtime=1)
        assert job.status == "succeeded", (job.error, job.log)
        assert [r["kind"] for r in job.result["results"]] == ["raw-thin", "qcow2-thin"]
        assert all(r["iops"] > 0 and r["io_bytes"] > 0 for r in job.result["results"])
        assert list(directory.iterdir()) == []
        workdir = next(e["message"].rsplit(": ", 1)[1] for e in job.log if "working directory" in e["message"])
        assert not Path(workdir).exists() and processes_mentioning(workdir) == []  # hostA shares this /tmp
    finally:
        conn = libvirt.open(a["uri"])
        remove_pool(conn, name)
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)
