"""Live migration between the two lab hosts (lab/hosts): real libvirtd + QEMU (TCG), checked with virsh.

The guest runs lab/dirty_memory.S: it keeps rewriting 32 MiB of its RAM, so every pass has real pages
to send again. Jobs run in-process (`migrate_instance.run`), the worker's code path without a worker.
"""
import os
import signal
import subprocess
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import libvirt
import pytest
from django.urls import reverse
from lxml import etree

from core import jobs
from core.models import Job
from core.testing import eventually
from hosts.sync import sync_host
from instances.migration_tasks import migrate_instance
from instances.models import Instance
from lab import guest

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
# Slow enough on TCG that the 0.5 s monitor sees several passes, fast enough to converge: a 32 MiB
# dirty set at 32 MiB/s needs ~1 s of downtime, within the 2 s allowed.
CONVERGING = {"max_bandwidth_mib": 32, "max_downtime_ms": 2000}
# Slow enough for several 0.5 s samples even on an idle machine (zero pages cost QEMU almost nothing, so the
# guest's 32 MiB of written memory is most of what moves), and still converging: 3 s of downtime at 16 MiB/s
# covers the 32 MiB the guest keeps rewriting.
SAMPLED = {"max_bandwidth_mib": 16, "max_downtime_ms": 3000}


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """The job runs here, in-process: nothing goes to the broker, where a later test's worker would find it."""
    from instances.migration_tasks import evacuate_host

    for task in (migrate_instance, evacuate_host):
        monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: SimpleNamespace(id="in-process"))


def virsh(uri, *args):
    return subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True)


def runs_on(uri, name):
    """The domain's state on that host as virsh says it ("" if it is not there)."""
    out = virsh(uri, "domstate", name)
    return out.stdout.strip() if out.returncode == 0 else ""


@pytest.fixture
def pair(two_hosts, make_host):
    a, b = two_hosts["a"], two_hosts["b"]
    host_a = make_host(host_name=a["name"], uri=a["uri"], migration_address=a["address"])
    host_b = make_host(host_name=b["name"], uri=b["uri"], migration_address=b["address"])
    return host_a, host_b


@pytest.fixture
def lab_vms(two_hosts):
    """Define dirty-memory guests on hostA out of band; destroyed and undefined on both hosts at the end."""
    conns = {key: libvirt.open(two_hosts[key]["uri"]) for key in ("a", "b")}
    made = []

    def define(where="shared", network=None):
        name = f"vd-mig-{uuid.uuid4().hex[:8]}"
        directory = two_hosts["shared"] if where == "shared" else "/var/lib/libvirt/images"
        # The per-host images directory is private to each host: hostA's is under its lab dir.
        made_in = two_hosts["shared"] if where == "shared" else two_hosts["a"]["images"]
        guest.make_dirty_memory_disk(made_in, name)
        xml = guest.domain_xml(name, f"{directory}/{name}.raw", disk_format="raw", vnc_listen="0.0.0.0",
                               network=network)
        dom = conns["a"].defineXML(xml)
        dom.create()
        made.append((name, [f"{made_in}/{name}.raw", f"{two_hosts['b']['images']}/{name}.raw"]))
        return name

    define.conns = conns
    yield define
    for name, files in made:
        for conn in conns.values():
            guest.remove(conn, name)
        for path in files:
            subprocess.run(["rm", "-f", str(path)], check=False)
    for conn in conns.values():
        conn.close()


def synced_row(host, name):
    sync_host(host)
    return Instance.objects.get(host=host, name=name)


def start(api, row, target, **options):
    response = api.post(f"/api/instances/{row.pk}/migrate/", {"target_host": target.pk, **options}, format="json")
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(f"/api/jobs/{response.json()['id']}/")
    return Job.objects.get(pk=response.json()["id"])


def run(job):
    return migrate_instance.run(job.pk, **job.params)


def progress_samples(job):
    job.refresh_from_db()
    return [entry["data"] for entry in job.log if entry["message"] == "progress"]


def test_it_moves_a_memory_writing_guest_a_to_b_and_back_on_shared_storage(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    uri_a, uri_b = two_hosts["a"]["uri"], two_hosts["b"]["uri"]
    name = lab_vms("shared")
    row = synced_row(host_a, name)

    check = api.get(f"/api/instances/{row.pk}/migrate/").json()
    assert [(c["host_name"], c["can"], c["storage"], c["needs_unsafe"]) for c in check] == [
        ("hostB", True, "shared", True)]
    refused = api.post(f"/api/instances/{row.pk}/migrate/", {"target_host": host_b.pk}, format="json")
    assert refused.status_code == 400 and "plain directory" in refused.json()["unsafe"][0]

    job = start(api, row, host_b, unsafe=True, **SAMPLED)
    assert run(job) == "succeeded"
    job.refresh_from_db()
    assert job.progress == 100 and job.result["target"] == "hostB" and job.result["moved"]
    assert job.result["downtime_ms"] > 0 and job.result["total_ms"] > 0
    samples = progress_samples(job)
    assert len(samples) >= 3 and job.result["samples"] == len(samples)
    processed = [s["data_processed"] for s in samples]
    assert processed == sorted(processed) and processed[-1] > 0  # figures of one job, moving forward
    assert {s["phase"] for s in samples} <= {"setup", "memory", "iterating"}
    assert job.result["remaining_by_iteration"], "the convergence chart has points"
    assert runs_on(uri_b, name) == "running" and runs_on(uri_a, name) == ""  # undefined on the source
    moved = Instance.objects.get(pk=row.pk)  # the same row, same URL
    assert moved.host == host_b and moved.state == "running"
    assert Instance.objects.filter(uuid=row.uuid).count() == 1

    back = start(api, moved, host_a, unsafe=True, **CONVERGING)
    assert run(back) == "succeeded"
    assert runs_on(uri_a, name) == "running" and runs_on(uri_b, name) == ""
    assert Instance.objects.get(pk=row.pk).host == host_a
    # Still dirtying memory after two moves: the counter the guest writes at 1 MiB keeps changing.
    dom = lab_vms.conns["a"].lookupByName(name)
    before = dom.memoryPeek(0x100000, 4, libvirt.VIR_MEMORY_PHYSICAL)
    eventually(lambda: dom.memoryPeek(0x100000, 4, libvirt.VIR_MEMORY_PHYSICAL) != before,
               message="the guest stopped writing its memory")


def test_it_copies_the_disk_when_the_target_does_not_see_it(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("local")
    row = synced_row(host_a, name)
    check = api.get(f"/api/instances/{row.pk}/migrate/").json()[0]
    assert check["can"] and check["storage"] == "copy_all" and not check["needs_unsafe"]
    shared_refused = api.post(f"/api/instances/{row.pk}/migrate/", {"target_host": host_b.pk}, format="json")
    assert shared_refused.status_code == 400 and "copy_all" in shared_refused.json()["storage"][0]

    job = start(api, row, host_b, storage="copy_all", **CONVERGING)
    assert run(job) == "succeeded", Job.objects.get(pk=job.pk).error
    assert runs_on(two_hosts["b"]["uri"], name) == "running" and runs_on(two_hosts["a"]["uri"], name) == ""
    copied = two_hosts["b"]["images"] / f"{name}.raw"
    assert copied.exists()
    with open(copied, "rb") as disk:  # the boot sector arrived on hostB's own disk
        assert disk.read(512)[510:] == b"\x55\xaa"
    assert Instance.objects.get(pk=row.pk).host == host_b


def test_it_cancels_a_bandwidth_limited_migration_and_the_vm_stays_on_the_source(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    job = start(api, row, host_b, unsafe=True, max_bandwidth_mib=1)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(status=run(job)))
    worker.start()
    eventually(lambda: len(progress_samples(job)) >= 1, timeout=30, message="no progress sample")
    assert jobs.request_cancel(Job.objects.get(pk=job.pk))
    worker.join(timeout=60)
    assert outcome["status"] == "cancelled"
    assert runs_on(two_hosts["a"]["uri"], name) == "running"
    # hostB tears its paused incoming copy down once the abort reaches it.
    eventually(lambda: runs_on(two_hosts["b"]["uri"], name) == "", timeout=30, message="still on hostB")
    assert Instance.objects.get(pk=row.pk).host == host_a
    job.refresh_from_db()
    assert any("still runs on hostA" in entry["message"] for entry in job.log)


def test_it_refuses_a_host_missing_the_vms_network(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    network = f"vdmig{uuid.uuid4().hex[:6]}"
    conn_a = lab_vms.conns["a"]
    # Isolated (no forward, no address): only a bridge inside hostA's namespace, no dnsmasq.
    xml = etree.Element("network")
    etree.SubElement(xml, "name").text = network
    etree.SubElement(xml, "bridge", name=network)
    net = conn_a.networkCreateXML(etree.tostring(xml, encoding="unicode"))
    try:
        name = lab_vms("shared", network=network)
        row = synced_row(host_a, name)
        check = api.get(f"/api/instances/{row.pk}/migrate/").json()[0]
        assert not check["can"]
        assert f"The VM's network '{network}' does not exist or is not active on this host." in check["reasons"]
        refused = api.post(f"/api/instances/{row.pk}/migrate/", {"target_host": host_b.pk, "unsafe": True},
                           format="json")
        assert refused.status_code == 400 and any(network in reason for reason in refused.json()["target_host"])
        assert virsh(two_hosts["b"]["uri"], "net-info", network).returncode != 0  # really absent there
    finally:
        for dom_name in [d.name() for d in conn_a.listAllDomains() if d.name().startswith("vd-mig-")]:
            dom = conn_a.lookupByName(dom_name)
            if network in dom.XMLDesc(0) and dom.isActive():
                dom.destroy()
        net.destroy()


def test_it_migrates_from_the_page_and_the_job_page_shows_the_outcome(admin_client, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    page = admin_client.get(reverse("instances:instance_migrate", args=[row.pk])).content.decode()
    assert 'data-host="hostB" data-can="yes"' in page and "needs unsafe" in page
    response = admin_client.post(reverse("instances:instance_migrate", args=[row.pk]), {
        "target_host": host_b.pk, "live": "on", "storage": "shared", "unsafe": "on", "persistent": "on",
        "undefine_source": "on", "peer2peer": "on", **CONVERGING})
    job = Job.objects.get(kind="migrate")
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert run(job) == "succeeded"
    assert runs_on(two_hosts["b"]["uri"], name) == "running"
    job_page = admin_client.get(response["Location"]).content.decode()
    assert "the VM was paused for" in job_page and "data-points=" in job_page  # Chart.js draws it
    assert admin_client.get(row.get_absolute_url()).status_code == 200  # the same URL, now on hostB


def test_it_fails_with_libvirts_reason_when_the_destination_dies_and_the_vm_stays(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    job = start(api, row, host_b, unsafe=True, max_bandwidth_mib=1)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(status=run(job)))
    worker.start()
    try:
        eventually(lambda: len(progress_samples(job)) >= 1, timeout=30, message="no progress sample")
        pidfile = two_hosts["shared"].parent / "hostB" / "pids" / "libvirtd.pid"
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)  # the lab's own daemon, by its pidfile
        worker.join(timeout=120)
        assert outcome["status"] == "failed"
        job.refresh_from_db()
        assert job.error  # libvirt's message, as it said it (printed below)
        assert runs_on(two_hosts["a"]["uri"], name) == "running"
        assert Instance.objects.get(pk=row.pk).host == host_a
    finally:
        worker.join(timeout=120)
        subprocess.run([str(Path(__file__).resolve().parents[2] / "lab" / "hosts"), "up"], capture_output=True,
                       check=True)
    print("destination killed:", job.error)


def test_it_switches_a_migration_that_cannot_converge_to_post_copy(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    # 4 MiB/s against a 32 MiB dirty set with 50 ms of downtime allowed: pre-copy alone never ends.
    job = start(api, row, host_b, unsafe=True, post_copy=True, max_bandwidth_mib=4, max_downtime_ms=50)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(status=run(job)))
    worker.start()
    # Post-copy can start once pre-copy runs (QEMU refuses it during setup).
    eventually(lambda: any(s["memory_iteration"] for s in progress_samples(job)), timeout=30,
               message="pre-copy did not start")
    response = api.post(f"/api/instances/{row.pk}/migrate/post-copy/")
    assert response.status_code == 200, response.content
    worker.join(timeout=180)
    job.refresh_from_db()
    assert outcome["status"] == "succeeded", job.error
    assert runs_on(two_hosts["b"]["uri"], name) == "running" and runs_on(two_hosts["a"]["uri"], name) == ""
    assert Instance.objects.get(pk=row.pk).host == host_b


def test_it_migrates_a_vm_of_a_host_reached_over_ssh(api, two_hosts, make_host, lab_vms):
    a, b = two_hosts["a"], two_hosts["b"]
    host_a = make_host(host_name="hostA-ssh", uri=f"qemu+ssh://root@{a['address']}/system",
                       ssh_private_key=two_hosts["ssh_key"].read_text(),
                       ssh_known_hosts=two_hosts["known_hosts"].read_text(), migration_address=a["address"])
    host_b = make_host(host_name=b["name"], uri=b["uri"], migration_address=b["address"])
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    job = start(api, row, host_b, unsafe=True, **CONVERGING)
    assert run(job) == "succeeded", Job.objects.get(pk=job.pk).error
    assert runs_on(b["uri"], name) == "running" and runs_on(a["uri"], name) == ""
    assert Instance.objects.get(pk=row.pk).host == host_b


def test_it_evacuates_a_host_two_vms_in_parallel_each_its_own_job(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    names = [lab_vms("shared"), lab_vms("shared")]
    sync_host(host_a)
    sync_host(host_b)  # its free memory decides where VMs go
    careful = api.post(f"/api/hosts/{host_a.pk}/evacuate/", {"parallel": 2}, format="json")
    assert careful.status_code == 202  # it starts; without unsafe no host fits (shared plain directory)
    parent = Job.objects.get(pk=careful.json()["id"])
    from instances.migration_tasks import evacuate_host

    assert evacuate_host.run(parent.pk, **parent.params) == "failed"
    parent.refresh_from_db()
    assert "2 of 2 VMs stay on hostA" in parent.error and "needs 'unsafe'" in str(parent.log)

    response = api.post(f"/api/hosts/{host_a.pk}/evacuate/", {"parallel": 2, "unsafe": True}, format="json")
    assert response.status_code == 202
    parent = Job.objects.get(pk=response.json()["id"])
    assert evacuate_host.run(parent.pk, **parent.params) == "succeeded", Job.objects.get(pk=parent.pk).error
    parent.refresh_from_db()
    assert sorted(m["name"] for m in parent.result["moved"]) == sorted(names) and not parent.result["failed"]
    children = Job.objects.filter(pk__in=parent.result["children"])
    assert children.count() == 2 and all(c.status == "succeeded" and c.params["parent"] == parent.pk
                                         for c in children)
    for name in names:
        assert runs_on(two_hosts["b"]["uri"], name) == "running" and runs_on(two_hosts["a"]["uri"], name) == ""
    assert not Instance.objects.filter(host=host_a, state="running").exists()


def test_it_migrates_without_peer2peer_virtdeck_driving_both_hosts(api, pair, lab_vms, two_hosts):
    host_a, host_b = pair
    name = lab_vms("shared")
    row = synced_row(host_a, name)
    job = start(api, row, host_b, unsafe=True, peer2peer=False, **CONVERGING)
    assert run(job) == "succeeded", Job.objects.get(pk=job.pk).error
    assert runs_on(two_hosts["b"]["uri"], name) == "running" and runs_on(two_hosts["a"]["uri"], name) == ""
    assert Instance.objects.get(pk=row.pk).host == host_b
