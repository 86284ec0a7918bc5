"""storage through the API on the real lab libvirtd, checked outside virtdeck: `virsh`, `qemu-img info`, `du`.

The pool lives in the test's tmp_path under a random name and is removed at the end whatever happens (the lab
is shared): only what these tests create is touched.
"""
import hashlib
import json
import subprocess

import pytest
from django.urls import reverse

from core.models import Job
from hosts.sync import sync_host
from instances.models import Instance
from storage import tasks
from storage.models import StoragePool, Volume
from virt.tests.test_lab_storage import on_disk, qemu_img_info

pytestmark = [pytest.mark.lab, pytest.mark.django_db]
MIB = 2**20
POOLS = "/api/storage/pools/"
VOLUMES = "/api/storage/volumes/"


def virsh(lab, *args):
    return subprocess.run(["virsh", "-q", "-c", lab["uri"], *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def lab_pool(api, lab_host, pool_names, tmp_path):
    """A dir pool in tmp_path made through the API: its row."""
    response = api.post(POOLS, {"host": lab_host.pk, "name": pool_names(), "type": "dir",
                                "target_path": str(tmp_path)}, format="json")
    assert response.status_code == 201, response.content
    return StoragePool.objects.get(pk=response.json()["id"])


def make_volume(api, pool, name, volume_format, allocation, capacity=64 * MIB):
    response = api.post(VOLUMES, {"pool": pool.pk, "name": name, "capacity": capacity, "format": volume_format,
                                  "allocation": allocation}, format="json")
    assert response.status_code == 201, response.content
    return Volume.objects.get(pk=response.json()["id"])


def test_it_creates_a_dir_pool_that_virsh_reads_back(lab, lab_pool, tmp_path):
    from lxml import etree

    xml = etree.fromstring(virsh(lab, "pool-dumpxml", lab_pool.name).encode())
    assert xml.get("type") == "dir" and xml.findtext("target/path") == str(tmp_path)
    assert xml.findtext("uuid") == str(lab_pool.uuid)
    assert virsh(lab, "pool-info", lab_pool.name).count("running") == 1
    assert lab_pool.state == "running" and lab_pool.capacity > 0 and lab_pool.volumes_synced_at is not None


def test_it_makes_volumes_whose_disk_usage_matches_the_policy(api, lab_pool, tmp_path):
    thin_raw = make_volume(api, lab_pool, "thin.raw", "raw", "thin")
    thick_raw = make_volume(api, lab_pool, "thick.raw", "raw", "thick")
    thin_qcow2 = make_volume(api, lab_pool, "thin.qcow2", "qcow2", "thin")
    meta_qcow2 = make_volume(api, lab_pool, "meta.qcow2", "qcow2", "metadata")
    thick_qcow2 = make_volume(api, lab_pool, "thick.qcow2", "qcow2", "thick")
    assert on_disk(tmp_path / "thin.raw") < MIB and thin_raw.is_thin
    assert on_disk(tmp_path / "thick.raw") >= 64 * MIB and not thick_raw.is_thin
    for made, info in ((thin_raw, "raw"), (thick_raw, "raw"), (thin_qcow2, "qcow2"), (meta_qcow2, "qcow2"),
                       (thick_qcow2, "qcow2")):
        image = qemu_img_info(tmp_path / made.name)
        assert (image["format"], image["virtual-size"]) == (info, 64 * MIB), made
        assert made.format == info and made.capacity == 64 * MIB
    assert on_disk(tmp_path / "thin.qcow2") < MIB
    assert on_disk(tmp_path / "meta.qcow2") < 4 * MIB  # tables written, data not
    assert on_disk(tmp_path / "thick.qcow2") >= 64 * MIB
    du = subprocess.run(["du", "-B1", "--apparent-size", str(tmp_path / "thin.raw")], check=True,
                        capture_output=True, text=True).stdout
    assert int(du.split()[0]) == 64 * MIB  # the guest sees all of it


def test_it_resizes_a_volume_on_disk(api, lab_pool, tmp_path):
    thin = make_volume(api, lab_pool, "grow.qcow2", "qcow2", "thin")
    response = api.patch(reverse("api-storage:volume-detail", args=[thin.pk]), {"capacity": 128 * MIB},
                         format="json")
    assert response.status_code == 200 and response.json()["capacity"] == 128 * MIB
    assert qemu_img_info(tmp_path / "grow.qcow2")["virtual-size"] == 128 * MIB


@pytest.mark.parametrize("body", [{"name": "../escape.raw"}, {"name": "sub/dir.raw"}, {"capacity": -1},
                                  {"capacity": 2**60}, {"format": "vmdk"}, {"allocation": "metadata"}])
def test_it_refuses_bad_volume_input_creating_nothing(api, lab_pool, tmp_path, body):
    before = sorted(p.name for p in tmp_path.iterdir())
    data = {"pool": lab_pool.pk, "name": "bad.raw", "capacity": MIB, "format": "raw", "allocation": "thin", **body}
    response = api.post(VOLUMES, data, format="json")
    assert response.status_code == 400, response.content
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not lab_pool.volumes.exists()
    assert not (tmp_path.parent / "escape.raw").exists()


def test_it_refuses_a_pool_whose_path_does_not_exist_unbuilt(api, lab, lab_host, pool_names, tmp_path):
    name = pool_names()
    missing = tmp_path / "no" / "such" / "dir"
    response = api.post(POOLS, {"host": lab_host.pk, "name": name, "type": "dir", "target_path": str(missing),
                                "build": False}, format="json")
    assert response.status_code == 400, response.content
    assert "dir" in response.json()["detail"]  # libvirt's own message names the path
    assert not StoragePool.objects.filter(name=name).exists() and not missing.exists()
    assert name not in virsh(lab, "pool-list", "--all", "--name").split()


def test_it_refuses_to_delete_a_volume_a_vm_uses(api, lab_pool, lab_guests, tmp_path):
    dom = lab_guests.define(start=True)  # its disk is tmp_path/<name>.qcow2: a volume of the pool
    api.post(reverse("api-storage:storagepool-refresh", args=[lab_pool.pk]))
    disk = Volume.objects.get(pool=lab_pool, name=f"{dom.name()}.qcow2")
    response = api.delete(reverse("api-storage:volume-detail", args=[disk.pk]))
    assert response.status_code == 400 and dom.name() in response.json()["detail"]
    assert (tmp_path / disk.name).exists() and Volume.objects.filter(pk=disk.pk).exists()


def test_it_clones_and_converts_through_a_job(api, lab_pool, tmp_path):
    source = make_volume(api, lab_pool, "source.raw", "raw", "thin")
    with open(tmp_path / "source.raw", "r+b") as data:
        data.write(b"virtdeck" * (MIB // 8))  # 8 MiB of data in a 64 MiB thin file
    response = api.post(reverse("api-storage:volume-clone", args=[source.pk]),
                        {"name": "copy.qcow2", "format": "qcow2"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert tasks.clone_volume.run(job.pk, **job.params) == "succeeded"
    job.refresh_from_db()
    copy = Volume.objects.get(pk=job.result["volume"])
    assert (job.progress, copy.name, copy.format) == (100, "copy.qcow2", "qcow2")
    assert qemu_img_info(tmp_path / "copy.qcow2")["format"] == "qcow2"
    compare = subprocess.run(["qemu-img", "compare", "-U", str(tmp_path / "source.raw"),
                              str(tmp_path / "copy.qcow2")], capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert json.loads(json.dumps(job.log))[0]["message"].startswith("copying")


def test_it_clones_into_another_pool_of_the_host(api, lab_host, lab_pool, pool_names, tmp_path, tmp_path_factory):
    other_dir = tmp_path_factory.mktemp("other-pool")
    response = api.post(POOLS, {"host": lab_host.pk, "name": pool_names(), "type": "dir",
                                "target_path": str(other_dir)}, format="json")
    assert response.status_code == 201, response.content
    other = StoragePool.objects.get(pk=response.json()["id"])
    source = make_volume(api, lab_pool, "source.qcow2", "qcow2", "thin")
    response = api.post(reverse("api-storage:volume-clone", args=[source.pk]),
                        {"name": "copy.qcow2", "pool": other.pk}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert tasks.clone_volume.run(job.pk, **job.params) == "succeeded"
    copy = Volume.objects.get(pk=Job.objects.get(pk=job.pk).result["volume"])
    assert (copy.pool, copy.format, copy.path) == (other, "qcow2", str(other_dir / "copy.qcow2"))
    assert qemu_img_info(other_dir / "copy.qcow2")["virtual-size"] == 64 * MIB
    assert not (tmp_path / "copy.qcow2").exists() and (tmp_path / "source.qcow2").exists()


def random_raw(api, pool, tmp_path, name, size):
    """A raw volume of `size` bytes of random data (written out of band, as a guest would)."""
    made = make_volume(api, pool, name, "raw", "thin", capacity=size)
    with open(tmp_path / name, "r+b") as data, open("/dev/urandom", "rb") as noise:
        for _ in range(size // (16 * MIB)):
            data.write(noise.read(16 * MIB))
    return made


def untouched(path):
    """What changes if a file is written to: its bytes and its modification time."""
    with open(path, "rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest(), path.stat().st_mtime_ns


def run_convert(api, volume, **body):
    response = api.post(reverse("api-storage:volume-convert", args=[volume.pk]), body, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    status = tasks.convert_volume.run(job.pk, **job.params)
    job.refresh_from_db()
    return status, job


def test_it_converts_raw_to_qcow2_and_back_identically(api, lab_pool, tmp_path):
    source = random_raw(api, lab_pool, tmp_path, "random.raw", 256 * MIB)
    before = untouched(tmp_path / "random.raw")
    status, job = run_convert(api, source, format="qcow2")
    assert (status, job.kind, job.progress) == ("succeeded", "convert_volume", 100), job.error
    qcow2 = Volume.objects.get(pk=job.result["volume"])
    assert qcow2.name == "random.qcow2" and qemu_img_info(tmp_path / "random.qcow2")["format"] == "qcow2"
    status, job = run_convert(api, qcow2, format="raw", allocation="thick", name="back.raw")
    assert status == "succeeded", job.error
    assert qemu_img_info(tmp_path / "back.raw")["format"] == "raw" and on_disk(tmp_path / "back.raw") >= 256 * MIB
    for copy in ("random.qcow2", "back.raw"):
        compare = subprocess.run(["qemu-img", "compare", "-U", str(tmp_path / "random.raw"), str(tmp_path / copy)],
                                 capture_output=True, text=True)
        assert compare.returncode == 0 and "identical" in compare.stdout, compare.stdout + compare.stderr
    assert untouched(tmp_path / "random.raw") == before  # the source is only read


@pytest.mark.django_db(transaction=True)  # the job runs in a thread of its own, on its own database connection
def test_it_leaves_no_target_after_a_cancel(api, lab_pool, tmp_path):
    import threading

    from core.jobs import request_cancel
    from core.testing import eventually

    source = random_raw(api, lab_pool, tmp_path, "big.raw", 512 * MIB)
    before = untouched(tmp_path / "big.raw")
    response = api.post(reverse("api-storage:volume-convert", args=[source.pk]), {"format": "qcow2"}, format="json")
    job = Job.objects.get(pk=response.json()["id"])
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(status=tasks.convert_volume.run(job.pk, **job.params)))
    worker.start()
    eventually(lambda: (tmp_path / "big.qcow2").exists(), timeout=30, interval=0.01, message="copy started")
    assert request_cancel(Job.objects.get(pk=job.pk))
    worker.join(timeout=120)
    assert outcome["status"] == "cancelled"
    assert not (tmp_path / "big.qcow2").exists() and not lab_pool.volumes.filter(name="big.qcow2").exists()
    assert untouched(tmp_path / "big.raw") == before  # the source stays, as it was


def test_it_refuses_a_bad_conversion_without_a_job(api, lab_pool):
    source = make_volume(api, lab_pool, "src.raw", "raw", "thin")
    for body in ({}, {"format": "vmdk"}, {"format": "qcow2", "name": "a/b"}, {"format": "raw"},  # src.raw exists
                 {"format": "raw", "allocation": "metadata", "name": "x.raw"}):
        response = api.post(reverse("api-storage:volume-convert", args=[source.pk]), body, format="json")
        assert response.status_code == 400, (body, response.content)
    assert not Job.objects.exists()


def test_it_converts_a_shut_off_vms_disk_and_switches_the_vm_to_it(api, lab, lab_host, lab_pool, lab_guests,
                                                                     tmp_path):
    from lxml import etree

    from hosts.sync import sync_host
    from instances.models import Instance

    dom = lab_guests.define(start=False)  # its disk: tmp_path/<name>.qcow2, a volume of the pool
    api.post(reverse("api-storage:storagepool-refresh", args=[lab_pool.pk]))
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    disk = Volume.objects.get(pool=lab_pool, name=f"{dom.name()}.qcow2")
    status, job = run_convert(api, disk, format="raw", instance=vm.pk)
    assert status == "succeeded", job.error
    assert job.result["switched"] == ["vda"]
    source = etree.fromstring(virsh(lab, "dumpxml", "--inactive", dom.name()).encode()).xpath(
        "devices/disk[target/@dev='vda']")[0]
    assert source.find("source").get("file") == str(tmp_path / f"{dom.name()}.raw")
    assert source.find("driver").get("type") == "raw"
    assert qemu_img_info(tmp_path / f"{dom.name()}.raw")["format"] == "raw"
    assert (tmp_path / f"{dom.name()}.qcow2").exists()  # the source stays, for going back


def test_it_fails_a_conversion_cleanly_leaving_no_target(api, lab_pool, tmp_path):
    source = make_volume(api, lab_pool, "broken.qcow2", "qcow2", "thin")
    # Its first L1 entry points at an unaligned L2 table: the header is fine, reading the data fails.
    with open(tmp_path / "broken.qcow2", "r+b") as image:
        image.seek(40)  # the header's l1_table_offset
        l1_table = int.from_bytes(image.read(8), "big")
        image.seek(l1_table)
        image.write((2**63 | 0x10200).to_bytes(8, "big"))
    before = untouched(tmp_path / "broken.qcow2")
    status, job = run_convert(api, source, format="raw", name="broken.raw")
    assert status == "failed" and job.status == "failed", job.log
    assert "corrupt" in job.error  # qemu-img's own words, through libvirt
    assert not (tmp_path / "broken.raw").exists()
    assert not lab_pool.volumes.filter(name="broken.raw").exists()
    assert untouched(tmp_path / "broken.qcow2") == before


def domblklist(lab, name):
    """{target: source} as virsh lists the domain's disks."""
    return dict(line.split(None, 1) for line in virsh(lab, "domblklist", name).splitlines() if line.strip())


def test_the_volume_list_names_the_guests_using_each_volume(lab, api, admin_client, lab_host, lab_pool, lab_guests):
    """A running and a shut-off guest whose file disks are volumes of the pool, as the host sync stored them
    (block stats, no extra RPC), cross-checked with `virsh domblklist`."""
    running, shut_off = lab_guests.define(start=True), lab_guests.define(start=False)
    assert api.post(f"/api/storage/pools/{lab_pool.pk}/refresh/").status_code == 200  # their disks, in the pool
    assert sync_host(lab_host) is not None
    for dom in (running, shut_off):
        path = domblklist(lab, dom.name())["vda"]
        disk = Volume.objects.get(pool=lab_pool, path=path)
        vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
        assert list(vm.disks.values_list("target", "path")) == [("vda", path)]
        listed = api.get(VOLUMES, {"pool": lab_pool.pk}).json()["results"]
        assert {v["name"]: [u["name"] for u in v["used_by"]] for v in listed}[disk.name] == [dom.name()]
        page = admin_client.get(reverse("storage:volume_list"), {"pool": lab_pool.pk})
        assert {v.name: [u.pk for u in v.synced_users] for v in page.context["page_obj"]}[disk.name] == [vm.pk]
        assert f'href="{vm.get_absolute_url()}">{dom.name()}</a>' in page.content.decode()
