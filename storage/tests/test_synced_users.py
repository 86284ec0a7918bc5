"""The volume lists (page, pool page, API) name the VMs whose disks were on each volume's path at the last sync
(instances.InstanceDisk), in one query per page whatever the number of volumes. Test driver: its hosts report no
block stats, so the disks are given to the inventory as a QEMU host's records carry them
(virt/tests/test_inventory_disks.py)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from instances import inventory
from instances.models import Instance
from instances.tests import records_of
from storage.models import Volume

from .conftest import volume

pytestmark = pytest.mark.django_db
VOLUMES = "/api/storage/volumes/"


def give_disks(host, name, *paths):
    """Store VM `name` of `host` as using `paths` (vda, vdb...), as after a sync of a QEMU host."""
    record = next(r for r in records_of(host) if r["name"] == name)
    disks = tuple((f"vd{chr(ord('a') + index)}", path) for index, path in enumerate(paths))
    return inventory.apply_record(host, record["uuid"], {**record, "disks": disks})


def add_users(host, pool, count):
    """`count` volumes of `pool` (rows only) named used-N.raw, each the disk of a VM named user-N."""
    template = records_of(host)[0]
    volumes = Volume.objects.bulk_create(
        Volume(pool=pool, name=f"used-{i:03d}.raw", path=f"{pool.target_path}/used-{i:03d}.raw", format="raw",
               capacity=2**30, allocation=2**20) for i in range(count))
    for i, vol in enumerate(volumes):
        uuid = f"22222222-2222-4222-8222-{i:012d}"
        inventory.apply_record(host, uuid, {**template, "uuid": uuid, "name": f"user-{i:03d}",
                                            "disks": (("vda", vol.path),)})


def test_the_list_page_links_the_vms_using_each_volume(admin_client, storage_host, images):
    web1 = give_disks(storage_host, "web1", volume(images, "web1.qcow2").path, volume(images, "thin.raw").path)
    response = admin_client.get(reverse("storage:volume_list"))
    rows = {vol.name: [vm.name for vm in vol.synced_users] for vol in response.context["page_obj"]}
    assert rows["web1.qcow2"] == ["web1"] and rows["thin.raw"] == ["web1"] and rows["base.qcow2"] == []
    page = response.content.decode()
    row = page[page.index(f'data-volume="{volume(images, "web1.qcow2").pk}"'):]
    assert f'<a href="{web1.get_absolute_url()}">web1</a>' in row[:row.index("</tr>")]
    assert "last sync" in page


def test_the_lists_sort_by_how_many_vms_use_each_volume(admin_client, api, storage_host, images):
    give_disks(storage_host, "web1", volume(images, "web1.qcow2").path, volume(images, "thin.raw").path)
    uuid = "33333333-3333-4333-8333-000000000001"  # a second VM on web1.qcow2
    inventory.apply_record(storage_host, uuid, {**records_of(storage_host)[0], "uuid": uuid, "name": "db1",
                                                "disks": (("vda", volume(images, "web1.qcow2").path),)})
    page = admin_client.get(reverse("storage:volume_list"), {"pool": images.pk, "ordering": "-used_by"})
    names = [vol.name for vol in page.context["page_obj"]]
    assert names[:2] == ["web1.qcow2", "thin.raw"] and "ordering=used_by" in page.content.decode()
    listed = api.get(VOLUMES, {"pool": images.pk, "ordering": "used_by"}).json()["results"]
    assert [v["name"] for v in listed][-2:] == ["thin.raw", "web1.qcow2"]  # unused ones first


def test_the_pool_page_shows_them_too(admin_client, storage_host, images):
    give_disks(storage_host, "web1", volume(images, "web1.qcow2").path)
    response = admin_client.get(images.get_absolute_url())
    assert {vol.name: [vm.name for vm in vol.synced_users] for vol in response.context["volumes"]}["web1.qcow2"] \
        == ["web1"]


def test_the_api_names_them(api, storage_host, images):
    web1 = give_disks(storage_host, "web1", volume(images, "web1.qcow2").path)
    listed = {v["name"]: v["used_by"] for v in api.get(VOLUMES, {"host": storage_host.pk}).json()["results"]}
    assert [vm["name"] for vm in listed["web1.qcow2"]] == ["web1"] and listed["thick.raw"] == []
    assert listed["web1.qcow2"][0]["id"] == web1.pk
    assert listed["web1.qcow2"][0]["url"].endswith(reverse("api-instances:instance-detail", args=[web1.pk]))
    one = api.get(reverse("api-storage:volume-detail", args=[volume(images, "web1.qcow2").pk])).json()
    assert [vm["name"] for vm in one["used_by"]] == ["web1"]


def test_a_vm_on_another_host_with_the_same_path_is_no_user(api, make_host, storage_host, images):
    other = make_host("storage", host_name="other")
    give_disks(other, "web1", volume(images, "web1.qcow2").path)  # its own web1, on its own pool of that path
    listed = {(v["host"], v["name"]): v["used_by"] for v in api.get(VOLUMES).json()["results"]}
    assert listed[(storage_host.pk, "web1.qcow2")] == []
    assert [vm["name"] for vm in listed[(other.pk, "web1.qcow2")]] == ["web1"]


def test_a_user_sees_only_the_vms_they_may_see(client, member, storage_host, images):
    from access.models import Grant, Role

    Grant.objects.create(user=member, role=Role.VIEWER, host=storage_host)
    give_disks(storage_host, "web1", volume(images, "web1.qcow2").path)
    client.force_login(member)
    rows = {vol.name: vol.synced_users for vol in client.get(reverse("storage:volume_list")).context["page_obj"]}
    assert [vm.name for vm in rows["web1.qcow2"]] == ["web1"]
    Grant.objects.all().delete()
    Grant.objects.create(user=member, role=Role.VIEWER, instance=Instance.objects.get(name="web1"))
    assert list(client.get(reverse("storage:volume_list")).context["page_obj"]) == []  # no host: no volumes


@pytest.mark.parametrize("page", ["storage:volume_list", VOLUMES])
def test_it_runs_as_many_queries_for_30_used_volumes_as_for_3(admin_client, make_host, page):
    url = page if page.startswith("/") else reverse(page)
    counts = {}
    for count in (3, 30):
        host = make_host("storage", host_name=f"users-{count}")
        add_users(host, host.storage_pools.get(name="images"), count)
        query = {"host": host.pk, "search": "used-", "per_page": 100, "limit": 100}
        admin_client.get(url, query)  # the first visit stores the page size
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url, query)
        assert response.status_code == 200
        if url == VOLUMES:
            users = [[vm["name"] for vm in v["used_by"]] for v in response.json()["results"]]
        else:
            users = [[vm.name for vm in v.synced_users] for v in response.context["page_obj"]]
        assert users == [[f"user-{i:03d}"] for i in range(count)]
        counts[count] = len(queries.captured_queries)
        users_queries = [q["sql"] for q in queries.captured_queries if "instances_instancedisk" in q["sql"]]
        assert len(users_queries) == 1, users_queries
    assert counts[3] == counts[30], counts
