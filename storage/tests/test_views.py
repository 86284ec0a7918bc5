"""Storage forms: a new pool in two steps (only the host's types, that type's fields), volumes, resize, clone."""
import pytest
from django.test import Client
from django.urls import reverse

from core.models import Job
from hosts.connection import call
from storage.models import StoragePool, Volume
from virt import storage as virt_storage
from virt.storage import PoolCapabilities, PoolTypeSupport

from .conftest import volume

pytestmark = pytest.mark.django_db
ADD_POOL = reverse("storage:storagepool_add")


def test_it_asks_for_the_host_first(admin_client, storage_host):
    response = admin_client.get(ADD_POOL)
    assert response.status_code == 200 and list(response.context["form"].fields) == ["host", "type"]
    assert response.context["form"].fields["type"].choices == []


def test_it_offers_only_the_types_the_host_supports(admin_client, storage_host, monkeypatch):
    from storage import services

    reported = PoolCapabilities([PoolTypeSupport("dir", [], ["raw", "qcow2"]),
                                 PoolTypeSupport("netfs", ["auto", "nfs"], ["raw", "qcow2"])], reported=True)
    monkeypatch.setattr(services, "pool_types", lambda host: reported)  # the test driver reports none
    form = admin_client.get(ADD_POOL, {"host": storage_host.pk}).context["form"]
    assert [value for value, _ in form.fields["type"].choices] == ["dir", "netfs"]
    netfs = admin_client.get(ADD_POOL, {"host": storage_host.pk, "type": "netfs"}).context["form"]
    assert {"source_host", "source_dir", "target_path", "source_format"} <= set(netfs.fields)
    assert [value for value, _ in netfs.fields["source_format"].choices] == ["", "auto", "nfs"]
    assert admin_client.get(ADD_POOL, {"host": storage_host.pk, "type": "logical"}).context["form"].fields.keys() \
        == {"host", "type"}  # not supported: back to step one


def test_it_creates_a_dir_pool_from_the_form(admin_client, storage_host):
    url = f"{ADD_POOL}?host={storage_host.pk}&type=dir"
    form = admin_client.get(url).context["form"]
    assert form.fields["target_path"].required and "source_host" not in form.fields
    response = admin_client.post(url, {"name": "scratch", "target_path": "/srv/scratch", "start": "on"})
    pool = StoragePool.objects.get(host=storage_host, name="scratch")
    assert response.status_code == 302 and response["Location"] == pool.get_absolute_url()
    assert call(storage_host, lambda conn: virt_storage.collect_pool(conn, "scratch")).target_path == "/srv/scratch"


@pytest.mark.parametrize("data,field", [({"name": "a/b", "target_path": "/srv/x"}, "name"),
                                        ({"name": "x", "target_path": "srv"}, "target_path"),
                                        ({"name": "x", "target_path": "/srv/x", "target_mode": "999"}, "target_mode"),
                                        ({"name": "images", "target_path": "/srv/x"}, None)])
def test_it_shows_refusals_on_the_pool_form(admin_client, storage_host, data, field):
    response = admin_client.post(f"{ADD_POOL}?host={storage_host.pk}&type=dir", data)
    assert response.status_code == 200 and response.context["form"].errors.get(field or "__all__")
    assert StoragePool.objects.filter(host=storage_host).count() == 4
    assert len(call(storage_host, virt_storage.collect_pools)) == 4


def test_it_needs_a_type_before_a_post(admin_client, storage_host):
    assert admin_client.post(ADD_POOL, {"name": "x"}).status_code == 404


def test_it_creates_a_volume_from_the_form(admin_client, images):
    url = reverse("storage:volume_add", args=[images.pk])
    data = {"name": "d.qcow2", "capacity_0": "1.5", "capacity_1": "GiB", "format": "qcow2", "allocation": "thin"}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    made = volume(images, "d.qcow2")
    assert response.status_code == 302 and response["Location"] == made.get_absolute_url()
    assert made.capacity == 3 * 2**29 and made.format == "qcow2"


@pytest.mark.parametrize("changes,field", [({"name": "../x"}, "name"), ({"capacity_0": "-1"}, "capacity"),
                                           ({"capacity_0": "2000", "capacity_1": "TiB"}, "capacity"),
                                           ({"capacity_1": "PiB"}, "capacity"), ({"format": "vmdk"}, "format"),
                                           ({"format": "raw", "allocation": "metadata"}, None)])
def test_it_shows_refusals_on_the_volume_form(admin_client, images, changes, field):
    data = {"name": "d.raw", "capacity_0": "1", "capacity_1": "GiB", "format": "raw", "allocation": "thin",
            **changes}
    response = admin_client.post(reverse("storage:volume_add", args=[images.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors.get(field or "__all__")
    assert images.volumes.count() == 4


def test_it_refuses_a_shrink_on_the_resize_form(admin_client, images):
    thin = volume(images, "thin.raw")
    response = admin_client.post(reverse("storage:volume_resize", args=[thin.pk]),
                                 {"capacity_0": "1", "capacity_1": "GiB"})
    assert response.status_code == 200 and "shrink" in str(response.context["form"].errors)
    assert Volume.objects.get(pk=thin.pk).capacity == 4 * 2**30


def test_it_starts_a_clone_from_the_form_into_a_pool_of_the_same_host(admin_client, images, make_host):
    make_host("storage", host_name="elsewhere")
    thin = volume(images, "thin.raw")
    form = admin_client.get(reverse("storage:volume_clone", args=[thin.pk])).context["form"]
    assert set(form.fields["pool"].queryset) == set(StoragePool.objects.filter(host=images.host))
    iso = StoragePool.objects.get(host=images.host, name="iso")
    response = admin_client.post(reverse("storage:volume_clone", args=[thin.pk]),
                                 {"name": "copy.qcow2", "pool": iso.pk, "format": "qcow2", "allocation": "thin"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.params["target_pool_id"] == iso.pk


@pytest.mark.parametrize("name", ["storage:storagepool_add", "storage:volume_add", "storage:volume_resize",
                                  "storage:volume_convert",
                                  "storage:volume_clone"])
def test_it_needs_login_and_a_csrf_token_for_forms(client, admin_user, images, name):
    if name == "storage:storagepool_add":
        url = reverse(name)
    else:
        url = reverse(name, args=[images.pk if name == "storage:volume_add" else volume(images, "thin.raw").pk])
    assert client.get(url).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url, {"name": "x"}).status_code == 403
    assert images.volumes.count() == 4 and not Job.objects.exists()


def test_it_links_storage_from_the_navigation(admin_client):
    assert reverse("storage:storagepool_list") in admin_client.get("/").content.decode()


def test_it_starts_a_conversion_from_the_form(admin_client, images):
    thin = volume(images, "thin.raw")
    url = reverse("storage:volume_convert", args=[thin.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"format": "qcow2", "allocation": "thin", "name": "", "pool": images.pk})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.kind, job.params["name"], job.params["volume_format"]) == ("convert_volume", "thin.qcow2", "qcow2")
    refused = admin_client.post(url, {"format": "raw", "allocation": "thin", "name": "thick.raw", "pool": images.pk})
    assert refused.status_code == 200 and "exists" in str(refused.context["form"].errors)
    assert Job.objects.count() == 1


def test_it_shows_the_hosts_pools_on_its_page(admin_client, storage_host, images):
    page = admin_client.get(storage_host.get_absolute_url()).content.decode()
    assert images.get_absolute_url() in page and "nfs-share" in page


@pytest.mark.parametrize("name,target", [("storage:volume_add", "pool"), ("storage:volume_resize", "volume"),
                                         ("storage:volume_clone", "volume"), ("storage:volume_convert", "volume"),
                                         ("storage:storagepool_delete", "pool"), ("storage:volume_delete", "volume")])
def test_it_shows_every_form_empty(admin_client, images, name, target):
    obj = images if target == "pool" else volume(images, "thin.raw")
    response = admin_client.get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200 and 'method="post"' in response.content.decode()


def test_it_offers_the_current_size_when_resizing(admin_client, images):
    form = admin_client.get(reverse("storage:volume_resize", args=[volume(images, "thin.raw").pk])).context["form"]
    assert form["capacity"].value() == 4 * 2**30
    assert 'value="4"' in str(form["capacity"]) and 'value="GiB" selected' in str(form["capacity"])


@pytest.mark.parametrize("host", ["abc", "9" * 30, "-1", "1.5", ""])
def test_it_asks_for_the_host_again_when_the_id_is_not_one(admin_client, storage_host, host):
    response = admin_client.get(ADD_POOL, {"host": host, "type": "dir"})
    assert response.status_code == 200 and list(response.context["form"].fields) == ["host", "type"]


def test_it_lets_a_viewer_of_the_host_read_the_storage_pages(client, member, images):
    from access.models import Grant, Role

    Grant.objects.create(user=member, role=Role.VIEWER, host=images.host)
    client.force_login(member)
    for url in (reverse("storage:storagepool_list"), images.get_absolute_url(), reverse("storage:volume_list"),
                volume(images, "thin.raw").get_absolute_url()):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url_name,target", [("storage:storagepool_list", None), ("storage:volume_list", None),
                                             ("storage:storagepool_detail", "pool"),
                                             ("storage:volume_detail", "volume")])
def test_it_never_calls_libvirt_for_lists_and_live_refreshes(admin_client, images, monkeypatch, url_name, target):
    from storage import services

    def refuse(*args, **kwargs):
        raise AssertionError("libvirt called")

    monkeypatch.setattr(services, "call", refuse)
    args = [] if target is None else [images.pk if target == "pool" else volume(images, "web1.qcow2").pk]
    response = admin_client.get(reverse(url_name, args=args), headers={"HX-Request": "true"})
    assert response.status_code == 200
    if target == "volume":
        page = response.content.decode()
        live = page[page.index('id="volume-detail"'):]
        assert "web1.qcow2" in live and response.context["users"] is None


def test_it_offers_only_shut_off_vms_of_the_host_for_the_switch(admin_client, storage_host, images):
    from instances.inventory import refresh_one
    from instances.models import Instance

    url = reverse("storage:volume_convert", args=[volume(images, "web1.qcow2").pk])
    assert list(admin_client.get(url).context["form"].fields["instance"].queryset) == []  # web1 runs
    web1 = Instance.objects.get(host=storage_host, name="web1")
    call(storage_host, lambda conn: conn.lookupByName("web1").destroy())
    refresh_one(storage_host, str(web1.uuid))
    assert list(admin_client.get(url).context["form"].fields["instance"].queryset) == [web1]
    response = admin_client.post(url, {"format": "raw", "allocation": "thin", "pool": images.pk, "instance": web1.pk})
    assert response.status_code == 302 and Job.objects.get().params["instance_id"] == web1.pk
