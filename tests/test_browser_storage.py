"""The browser tier for storage: Chromium creates a volume, watches its conversion's progress bar reach 100 %,
and runs a storage benchmark whose charts draw the job's figures. A real Celery worker runs the jobs on this
machine (qemu:///system: the lab's libvirtd, and a shell for fio); results are read back through libvirt,
`qemu-img` and the job rows."""
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import libvirt
import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne, log_in  # noqa: F401 (daphne is a fixture)

from core.models import Job
from core.tests.test_worker import worker  # noqa: F401 (a fixture)
from storage import services
from storage.models import Volume
from virt.tests.test_lab_storage import remove_pool

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MIB = 2**20
SCREENSHOT_COPY = Path("/tmp/virtdeck-benchmark.png")


@pytest.fixture
def local_pool(lab, make_host, tmp_path):
    """A dir pool in tmp_path on this machine's libvirtd; removed (with its volumes) at the end."""
    host = make_host("local", uri="qemu:///system")
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    (tmp_path / "pool").mkdir()  # tmp_path itself also holds the daphne and worker logs
    try:
        yield services.create_pool(host, "dir", name, {"target_path": str(tmp_path / "pool")})
    finally:
        conn = libvirt.open(lab["uri"])
        remove_pool(conn, name)
        conn.close()


def fill_with_random_data(path, size):
    """Write incompressible data into the volume's file, so the conversion has real work to show."""
    with open(path, "r+b") as handle:
        for _ in range(size // (8 * MIB)):
            handle.write(os.urandom(8 * MIB))


def progress_of(page):
    return int(page.locator(".progress").first.get_attribute("aria-valuenow"))


def test_it_creates_converts_and_benchmarks_volumes(admin_user, local_pool, worker, daphne, tmp_path):  # noqa: F811
    directory = tmp_path / "pool"
    with chromium_page() as page:
        log_in(page, daphne)
        page.get_by_role("link", name="Storage").click()
        page.get_by_role("link", name=local_pool.name).click()
        page.get_by_role("link", name="Add volume").click()
        page.locator('input[name="name"]').fill("source.raw")
        page.locator('input[name="capacity_0"]').fill("256")
        page.locator('select[name="capacity_1"]').select_option("MiB")
        page.locator('select[name="format"]').select_option("raw")
        page.get_by_role("button", name="Create volume").click()
        expect(page).to_have_url(re.compile(r"/storage/volumes/\d+/$"))
    assert subprocess.run(["qemu-img", "info", "--output=json", str(directory / "source.raw")], check=True,
                          capture_output=True, text=True).stdout.count('"virtual-size": 268435456') == 1
    fill_with_random_data(directory / "source.raw", 192 * MIB)
    services.refresh_pool(local_pool)  # the allocation the progress is measured against
    source = Volume.objects.get(pool=local_pool, name="source.raw")

    with chromium_page() as page:
        log_in(page, daphne)
        page.goto(f"{daphne}{source.get_absolute_url()}")
        page.get_by_role("link", name="Convert").click()
        page.get_by_label("Convert to").select_option("qcow2")
        page.get_by_role("button", name="Start the conversion").click()
        expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
        seen = [progress_of(page)]
        expect(page.locator(".progress").first).to_have_attribute("aria-valuenow", "100", timeout=120_000)
        seen.append(progress_of(page))
        expect(page.locator(".badge").filter(has_text="succeeded").first).to_be_visible()
        convert_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert seen == sorted(seen) and seen[-1] == 100
    convert = Job.objects.get(pk=convert_id)
    assert (convert.kind, convert.status) == ("convert_volume", "succeeded"), (convert.error, convert.log)
    compared = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(directory / "source.raw"),
                               str(directory / "source.qcow2")], capture_output=True, text=True)
    assert compared.returncode == 0, compared.stdout + compared.stderr

    with chromium_page() as page:
        log_in(page, daphne)
        page.get_by_role("link", name="Storage").click()
        page.get_by_role("link", name="Benchmark").click()
        page.get_by_label("Pool", exact=True).select_option(label=f"local / {local_pool.name} (dir)")
        for label in ("raw, thick (preallocated)", "qcow2, metadata preallocated"):
            page.get_by_label(label, exact=True).uncheck()
        for label in ("sequential write", "sequential read", "random read"):
            page.get_by_label(label, exact=True).uncheck()
        page.get_by_label("Size of each test volume (MiB)").fill("16")
        page.get_by_label("Longest run (seconds)").fill("1")
        page.get_by_label("I/O depth").fill("4")
        page.get_by_role("button", name="Start the benchmark").click()
        expect(page).to_have_url(re.compile(r"/storage/benchmarks/\d+/$"))
        expect(page.locator('canvas[data-drawn="true"]')).to_have_count(3, timeout=120_000)
        drawn = page.evaluate("""() => [...document.querySelectorAll('canvas[data-benchmark-chart]')].map(canvas => {
            const chart = Chart.getChart(canvas);
            return {metric: canvas.dataset.benchmarkChart, labels: chart.data.labels,
                    data: chart.data.datasets.map(set => set.data)};
        })""")
        rows = page.locator("#benchmark-results tbody tr").count()
        # For a person to look at after the run (a full-page capture resizes the page and loses the canvases).
        page.locator("#benchmark-results").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT_COPY))
        run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    run = Job.objects.get(pk=run_id)
    assert run.status == "succeeded", (run.error, run.log)
    iops = {row["kind"]: row["iops"] for row in run.result["results"]}
    assert rows == 2 and set(iops) == {"raw-thin", "qcow2-thin"}
    by_metric = {chart["metric"]: chart for chart in drawn}
    assert by_metric["iops"]["labels"] == ["raw, thin (sparse)", "qcow2, thin"]
    assert by_metric["iops"]["data"] == [[iops["raw-thin"], iops["qcow2-thin"]]], json.dumps(drawn)
    # The benchmark's volumes are gone; the two made above stay.
    assert sorted(entry.name for entry in directory.iterdir()) == ["source.qcow2", "source.raw"]
