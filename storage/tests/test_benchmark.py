"""The storage benchmark without running fio: its refusals through the API and the page (test driver:
core/testing/nodes/storage.xml, a host virtdeck has no shell on), the argument lists, and fio's JSON as fio 3.33
printed it here over NBD (data/fio_randread_nbd.txt)."""
import html
from pathlib import Path

import pytest
from django.urls import reverse

from core.models import Job
from storage import benchmark
from storage.benchmark import MIB, BenchmarkSpec, FioOutputError, fio_argv, nbd_server_argv, parse_fio
from storage.benchmark_tasks import StorageBenchmark
from storage.models import StoragePool
from virt.errors import InvalidValue

BENCHMARKS = "/api/storage/benchmarks/"
FIO_OUTPUT = (Path(__file__).parent / "data" / "fio_randread_nbd.txt").read_text()


def no_jobs():
    return not Job.objects.filter(kind=StorageBenchmark.kind).exists()


# --------------------------------------------------------------------------- API refusals

@pytest.mark.django_db
def test_it_refuses_a_host_without_a_shell_and_says_why(api, storage_host, images):
    response = api.post(BENCHMARKS, {"pool": images.pk}, format="json")
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "no shell" in detail and storage_host.name in detail and "qemu+ssh" in detail
    assert no_jobs()


@pytest.mark.django_db
def test_it_refuses_a_pool_that_holds_no_files(api, storage_host):
    vg0 = StoragePool.objects.get(host=storage_host, name="vg0")
    response = api.post(BENCHMARKS, {"pool": vg0.pk}, format="json")
    assert response.status_code == 400 and "logical" in response.json()["pool"][0], response.content
    assert no_jobs()


@pytest.mark.django_db
def test_it_refuses_a_stopped_pool(api, images):
    StoragePool.objects.filter(pk=images.pk).update(state="inactive")
    response = api.post(BENCHMARKS, {"pool": images.pk}, format="json")
    assert response.status_code == 409 and "not running" in response.json()["detail"], response.content
    assert no_jobs()


@pytest.mark.django_db
def test_it_refuses_a_size_the_pool_cannot_hold(api, images):
    StoragePool.objects.filter(pk=images.pk).update(available=20 * MIB)
    response = api.post(BENCHMARKS, {"pool": images.pk, "size": 16 * MIB, "kinds": ["raw-thick"]}, format="json")
    assert response.status_code == 400 and "20 MiB free" in response.json()["size"][0], response.content
    assert no_jobs()


BAD_BODIES = [
    ({"kinds": "raw-thin"}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"kinds": ["raw-thin", "vmdk"]}, "kinds"),
    ({"kinds": ["../../etc"]}, "kinds"),
    ({"workloads": ["trim"]}, "workloads"),
    ({"block_size": "3k"}, "block_size"),
    ({"block_size": "4k --filename=/dev/sda"}, "block_size"),
    ({"iodepth": 0}, "iodepth"),
    ({"iodepth": 65}, "iodepth"),
    ({"iodepth": "deep"}, "iodepth"),
    ({"size": -1}, "size"),
    ({"size": 15 * MIB}, "size"),
    ({"size": 2**60}, "size"),
    ({"size": 16 * MIB + 1}, "size"),
    ({"runtime": 0}, "runtime"),
    ({"runtime": 61}, "runtime"),
    ({"runtime": 60}, "runtime"),  # 4 kinds x 4 workloads x 60 s: over the 600 s a benchmark may take
    ({"pool": 2**70}, "pool"),
    ({"pool": "1; rm -rf /"}, "pool"),
    ({"pool": 999999}, "pool"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("body,field", BAD_BODIES)
def test_it_refuses_bad_input_naming_the_field(api, images, body, field):
    response = api.post(BENCHMARKS, {"pool": images.pk, **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert no_jobs()


@pytest.mark.django_db
def test_it_lists_benchmark_runs_only(api, images, admin_user):
    run = Job.objects.create(kind=StorageBenchmark.kind, target_id=str(images.pk), target_name="images",
                             status="succeeded", result={"results": [{"kind": "raw-thin", "iops": 5.0}]})
    Job.objects.create(kind="convert_volume", status="succeeded")
    listed = api.get(BENCHMARKS).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [run.pk]
    assert api.get(f"{BENCHMARKS}{run.pk}/").json()["result"]["results"][0]["iops"] == 5.0


@pytest.mark.django_db
def test_it_needs_a_login(client, images):
    assert client.get(BENCHMARKS).status_code in (401, 403)
    assert client.post(BENCHMARKS, {"pool": images.pk}).status_code in (401, 403)
    assert no_jobs()


# --------------------------------------------------------------------------- the page

@pytest.mark.django_db
def test_it_explains_on_the_page_why_a_host_cannot_be_benchmarked(admin_client, storage_host, images):
    page = admin_client.get(reverse("storage:benchmark")).content.decode()
    assert 'id="no-shell"' in page and "no shell" in page
    assert "raw or qcow2?" in page and "thin or thick?" in page
    detail = admin_client.get(images.get_absolute_url()).content.decode()
    assert f'{reverse("storage:benchmark")}?pool={images.pk}' in detail  # the pool page links here
    preselected = admin_client.get(f'{reverse("storage:benchmark")}?pool={images.pk}').content.decode()
    assert f'<option value="{images.pk}" selected>' in preselected
    response = admin_client.post(reverse("storage:benchmark"), {
        "pool": images.pk, "kinds": ["raw-thin"], "workloads": ["randread"], "block_size": "4k", "iodepth": 4,
        "size_mib": 16, "runtime": 2})
    assert response.status_code == 200 and "no shell" in response.content.decode()
    assert no_jobs()


def finished_run(pool, iops_by_kind):
    """A succeeded benchmark job of random writes with these IOPS per kind, as the task stores it."""
    spec = BenchmarkSpec(kinds=tuple(iops_by_kind), workloads=("randwrite",)).as_dict()
    results = [{"kind": kind, "workload": "randwrite", "iops": iops, "bandwidth": iops * 4096, "io_bytes": 4096,
                "runtime_ms": 1000, "latency_us": {"50": 10.0, "95": 20.0, "99": 30.0}, "latency_mean_us": 12.0,
                "allocation_after": 4096} for kind, iops in iops_by_kind.items()]
    return Job.objects.create(kind=StorageBenchmark.kind, target_name=pool.name, status="succeeded",
                              params={"pool_id": pool.pk, "spec": spec}, result={"spec": spec, "results": results})


@pytest.mark.django_db
def test_it_shows_a_finished_run_as_a_table_and_chart_data(admin_client, images):
    run = finished_run(images, {"raw-thin": 900.0, "qcow2-thin": 700.0})
    page = admin_client.get(reverse("storage:benchmark_detail", args=[run.pk])).content.decode()
    assert 'data-kind="qcow2-thin"' in page and "benchmark-chart-data" in page and "chart.umd.min.js" in page
    assert html.escape('"iops": [900.0, 700.0]') in page  # in the chart's data attribute


@pytest.mark.django_db
def test_it_links_every_run_from_the_latest_ones(admin_client, images):
    runs = [finished_run(images, {"raw-thin": float(index)}) for index in range(3)]
    page = admin_client.get(reverse("storage:benchmark")).content.decode()
    link = html.unescape(page.split('id="all-benchmark-runs"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0])
    listed = admin_client.get(link, {"per_page": 2})
    assert [job.pk for job in listed.context["page_obj"]] == [run.pk for run in reversed(runs)][:2]
    assert listed.context["paginator"].count == 3


@pytest.mark.django_db
def test_it_overlays_another_run_for_comparison(admin_client, images):
    earlier = finished_run(images, {"raw-thin": 500.0, "qcow2-thin": 400.0})
    run = finished_run(images, {"raw-thin": 900.0, "qcow2-thin": 700.0})
    response = admin_client.get(reverse("storage:benchmark_detail", args=[run.pk]), {"compare": earlier.pk})
    assert response.context["compare"] == earlier and earlier in response.context["others"]
    series = {entry["label"]: entry["iops"] for entry in response.context["chart"]["series"]}
    assert series == {f"random write (#{run.pk})": [900.0, 700.0], f"random write (#{earlier.pk})": [500.0, 400.0]}
    for bad in ("abc", str(run.pk), "9" * 30):  # not a run, the run itself: no overlay, still a page
        response = admin_client.get(reverse("storage:benchmark_detail", args=[run.pk]), {"compare": bad})
        assert response.status_code == 200 and response.context["compare"] is None, bad


# --------------------------------------------------------------------------- pure parts

def test_it_builds_argument_lists_from_checked_values_only():
    spec = BenchmarkSpec(kinds=("raw-thin",), workloads=("randread",), block_size="64k", iodepth=8, size=32 * MIB,
                         runtime=3)
    argv = fio_argv(spec, "randread", "/tmp/virtdeck-bench.abc/nbd.sock")
    assert argv[:2] == ["fio", "--output-format=json"]
    assert "--uri=nbd+unix:///?socket=/tmp/virtdeck-bench.abc/nbd.sock" in argv
    assert argv[argv.index("--name=fill"):argv.index("--name=measure")] == [
        "--name=fill", "--rw=write", "--bs=1m", "--iodepth=8"]
    assert argv[argv.index("--name=measure"):] == ["--name=measure", "--stonewall", "--rw=randread", "--bs=65536",
                                                   "--iodepth=8", "--runtime=3"]
    assert "--name=fill" not in fio_argv(spec, "randwrite", "/s")
    assert nbd_server_argv("/p/v.qcow2", "qcow2", "/d/s", "/d/p")[-3:] == ["--cache=none", "--aio=native",
                                                                            "/p/v.qcow2"]


def test_it_keeps_the_table_order_and_drops_repeats():
    spec = BenchmarkSpec(kinds=["qcow2-thin", "raw-thin", "raw-thin"], workloads=["randread", "seqwrite"])
    assert spec.kinds == ("raw-thin", "qcow2-thin") and spec.workloads == ("seqwrite", "randread")
    assert spec.runs == 4


@pytest.mark.parametrize("value", [True, 1.5, "8", None])
def test_it_refuses_iodepths_that_are_not_whole_numbers(value):
    with pytest.raises(InvalidValue) as caught:
        BenchmarkSpec(iodepth=value)
    assert caught.value.field == "iodepth"


def test_it_reads_fios_json_after_the_nbd_engines_chatter():
    assert FIO_OUTPUT.startswith("fio: connected to NBD server")
    figures = parse_fio(FIO_OUTPUT, "randread")
    assert figures["iops"] > 0 and figures["bandwidth"] > 0 and figures["io_bytes"] > 0
    assert set(figures["latency_us"]) == {"50", "95", "99"}
    assert figures["latency_us"]["50"] <= figures["latency_us"]["95"] <= figures["latency_us"]["99"]


@pytest.mark.parametrize("text", ["", "fio: engine nbd not loadable\n", "{ not json", '{"jobs": []}',
                                  '{"jobs": [{"jobname": "measure", "error": 5}]}'])
def test_it_refuses_fio_output_it_cannot_read(text):
    with pytest.raises(FioOutputError):
        parse_fio(text, "randread")


def test_it_names_every_kind_and_workload_for_people():
    assert set(benchmark.KIND_LABELS) == set(benchmark.KINDS)
    assert set(benchmark.WORKLOAD_LABELS) == set(benchmark.WORKLOADS)
