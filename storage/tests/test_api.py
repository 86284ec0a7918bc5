"""/api/storage/: creating, resizing, deleting and cloning, and bad or hostile input (400 naming the field,
nothing created on the host or in the inventory). Test driver (core/testing/nodes/storage.xml)."""
import json

import pytest
from django.urls import reverse

from core.models import Job
from hosts.connection import call
from storage.models import StoragePool, Volume
from virt import storage as virt_storage
from virt import volumes as virt_volumes

from .conftest import volume

pytestmark = pytest.mark.django_db
POOLS = "/api/storage/pools/"
VOLUMES = "/api/storage/volumes/"
ORIGINAL = {"base.qcow2", "web1.qcow2", "thin.raw", "thick.raw"}


def names_on_host(host, pool="images"):
    return {v.name for v in call(host, lambda conn: virt_volumes.collect_volumes(conn, pool))}


def pools_on_host(host):
    return {r.name for r in call(host, virt_storage.collect_pools)}


def test_it_creates_a_volume(api, storage_host, images):
    body = {"pool": images.pk, "name": "disk.qcow2", "capacity": 2**30, "format": "qcow2", "allocation": "thin"}
    response = api.post(VOLUMES, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["name"], created["format"], created["capacity"], created["pool"]) == (
        "disk.qcow2", "qcow2", 2**30, images.pk)
    assert "disk.qcow2" in names_on_host(storage_host)
    assert api.get(reverse("api-storage:volume-detail", args=[created["id"]])).json()["path"].endswith("/disk.qcow2")


@pytest.mark.parametrize("body,field", [
    ({"name": "a/b"}, "name"), ({"name": ".."}, "name"), ({"name": "../../etc/shadow"}, "name"),
    ({"name": "-x"}, "name"), ({"name": "x\u202e"}, "name"), ({"name": ""}, "name"), ({"name": None}, "name"),
    ({"capacity": -1}, "capacity"), ({"capacity": 0}, "capacity"), ({"capacity": 2**51}, "capacity"),
    ({"capacity": 10**40}, "capacity"), ({"capacity": "lots"}, "capacity"), ({"capacity": 1.5}, "capacity"),
    ({"capacity": None}, "capacity"), ({"format": "vmdk"}, "format"), ({"format": ["raw"]}, "format"),
    ({"allocation": "sparse"}, "allocation"), ({"allocation": "metadata", "format": "raw"}, "Metadata"),
    ({"pool": 10**30}, "pool"), ({"pool": "abc"}, "pool"), ({"pool": -1}, "pool"), ({"pool": True}, "pool"),
    ({"name": "thin.raw"}, "exists"),
])
def test_it_refuses_bad_volume_input_with_a_clear_400(api, storage_host, images, body, field):
    data = {"pool": images.pk, "name": "new.raw", "capacity": 2**20, "format": "raw", "allocation": "thin", **body}
    response = api.post(VOLUMES, data, format="json")
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json())
    assert names_on_host(storage_host) == ORIGINAL and images.volumes.count() == 4


@pytest.mark.parametrize("body", ["{not json", "[]", "null", '"x"', '{"capacity": NaN}', "9" * 5000])
def test_it_refuses_malformed_bodies(api, storage_host, images, body):
    response = api.post(VOLUMES, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert names_on_host(storage_host) == ORIGINAL


def test_it_refuses_to_shrink_through_patch_unless_asked(api, images):
    thin = volume(images, "thin.raw")
    url = reverse("api-storage:volume-detail", args=[thin.pk])
    response = api.patch(url, {"capacity": 2**20}, format="json")
    assert response.status_code == 400 and "shrink" in response.json()["detail"]
    assert api.patch(url, {"capacity": -5}, format="json").status_code == 400
    assert api.put(url, {"capacity": 2**40}, format="json").status_code == 405
    assert Volume.objects.get(pk=thin.pk).capacity == 4 * 2**30


def test_it_refuses_to_delete_a_volume_in_use_naming_the_vm(api, storage_host, images):
    used = volume(images, "web1.qcow2")
    response = api.delete(reverse("api-storage:volume-detail", args=[used.pk]))
    assert response.status_code == 400 and "web1" in response.json()["detail"]
    assert "web1.qcow2" in names_on_host(storage_host) and Volume.objects.filter(pk=used.pk).exists()


def test_it_deletes_a_volume(api, storage_host, images):
    thick = volume(images, "thick.raw")
    assert api.delete(reverse("api-storage:volume-detail", args=[thick.pk])).status_code == 204
    assert "thick.raw" not in names_on_host(storage_host) and not Volume.objects.filter(pk=thick.pk).exists()


def test_it_answers_a_clone_with_202_and_its_job(api, images):
    source = volume(images, "thin.raw")
    response = api.post(reverse("api-storage:volume-clone", args=[source.pk]),
                        {"name": "copy.raw", "allocation": "thick"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert response["Location"].endswith(reverse("api-core:job-detail", args=[job.pk]))
    assert job.params["target_pool_id"] == images.pk and job.params["allocation"] == "thick"


@pytest.mark.parametrize("body", [{"name": "../x"}, {"name": "c", "format": "vdi"}, {"name": "c", "pool": 10**25},
                                  {}, {"name": "thick.raw"}, {"name": "c", "allocation": "fat"}])
def test_it_refuses_a_bad_clone_without_a_job(api, images, body):
    source = volume(images, "thin.raw")
    response = api.post(reverse("api-storage:volume-clone", args=[source.pk]), body, format="json")
    assert response.status_code == 400, response.content
    assert not Job.objects.exists()


def test_it_creates_a_dir_pool(api, storage_host):
    body = {"host": storage_host.pk, "name": "scratch", "type": "dir", "target_path": "/srv/scratch",
            "target_mode": "0750", "autostart": True}
    response = api.post(POOLS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["target_path"] == "/srv/scratch" and response.json()["autostart"] is True
    xml = call(storage_host, lambda conn: conn.storagePoolLookupByName("scratch").XMLDesc(0))
    assert "<path>/srv/scratch</path>" in xml and "<mode>0750</mode>" in xml


@pytest.mark.parametrize("body,field", [
    ({"target_path": ""}, "target_path"), ({"target_path": "srv"}, "target_path"), ({"name": "a/b"}, "name"),
    ({"name": ".."}, "name"), ({"type": "ntfs"}, "type"), ({"source_host": "nas"}, "source_host"),
    ({"target_mode": "rwx"}, "target_mode"), ({"target_owner": -1}, "target_owner"),
    ({"target_path": "/x\n/y"}, "target_path"), ({"host": 2**64}, "host"), ({"name": "images"}, "exists"),
    ({"type": "netfs", "source_host": "nas", "source_dir": "/e", "source_format": "ntfs"}, "source_format"),
    ({"type": "logical", "source_devices": "/dev/sdz"}, "source_devices"),
])
def test_it_refuses_bad_pool_input_with_a_clear_400(api, storage_host, body, field):
    data = {"host": storage_host.pk, "name": "p1", "type": "dir", "target_path": "/srv/p1", **body}
    response = api.post(POOLS, data, format="json")
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json())
    assert pools_on_host(storage_host) == {"images", "iso", "vg0", "nfs-share"}
    assert StoragePool.objects.filter(host=storage_host).count() == 4


def test_it_sets_autostart_from_the_body(api, storage_host, images):
    url = reverse("api-storage:storagepool-autostart", args=[images.pk])
    assert api.post(url, {"enabled": True}, format="json").json()["autostart"] is True
    assert call(storage_host, lambda conn: virt_storage.collect_pool(conn, "images")).autostart is True
    for bad in ({}, {"enabled": "maybe"}, {"enabled": None}):
        assert api.post(url, bad, format="json").status_code == 400
    assert api.post(url, {"enabled": False}, format="json").json()["autostart"] is False


def test_it_deletes_a_pool_and_refuses_to_delete_storage_holding_volumes(api, storage_host, images):
    url = reverse("api-storage:storagepool-detail", args=[images.pk])
    assert api.delete(url + "?delete_storage=true").status_code == 400
    assert api.delete(url + "?delete_storage=perhaps").status_code == 400
    assert "images" in pools_on_host(storage_host)
    assert api.delete(url).status_code == 204
    assert "images" not in pools_on_host(storage_host) and not StoragePool.objects.filter(pk=images.pk).exists()


@pytest.mark.parametrize("body", ['{"pool": %d, "name": "a\\u0000b", "capacity": 1048576}',
                                  '{"pool": %d, "name": "\\ud800", "capacity": 1048576}',
                                  '{"pool": %d, "name": "x", "capacity": 1e400}',
                                  '{"pool": %d, "name": ["x"], "capacity": 1048576}',
                                  '{"pool": %d, "name": "x", "capacity": {"$gt": 0}}'])
def test_it_refuses_hostile_json_with_400(api, storage_host, images, body):
    response = api.post(VOLUMES, body % images.pk, content_type="application/json")
    assert response.status_code == 400, response.content
    assert names_on_host(storage_host) == ORIGINAL and images.volumes.count() == 4


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_it_refuses_bodies_it_cannot_parse_with_415(api, images, content_type):
    response = api.post(VOLUMES, json.dumps({"pool": images.pk, "name": "x", "capacity": 2**20}),
                        content_type=content_type)
    assert response.status_code == 415 and images.volumes.count() == 4
