"""Storage pages and /api/storage/ through the standard generic-view tests (core/testing): one filter set each."""
import pytest
from django.urls import reverse

from core.testing.api import APIActionTests, APIViewSetTests
from core.testing.views import ActionViewTests, DeleteViewTests, DetailViewTests, ListViewTests
from hosts.connection import call
from storage import services
from storage.models import StoragePool, Volume
from virt import storage as virt_storage

from .conftest import volume

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hosts(make_host):
    """storage.xml twice (each connection its own copy) plus libvirt's default test node (default-pool)."""
    first = make_host("storage", host_name="alpha")
    second = make_host("storage", host_name="beta")
    services.stop_pool(StoragePool.objects.get(host=second, name="nfs-share"))
    return first, second


def pool_filters(alpha, beta):
    return [
        ({"host": alpha.pk}, {"images", "iso", "vg0", "nfs-share"}),
        ({"type": "logical"}, {"vg0"}),
        ({"type": ["netfs", "logical"], "host": beta.pk}, {"vg0", "nfs-share"}),
        ({"state": "inactive"}, {"nfs-share"}),
        ({"search": "EXPORT/VMS"}, {"nfs-share"}),  # the source, any case
        ({"search": "/var/lib/virtdeck-test/i"}, {"images", "iso"}),
    ]


def volume_filters(alpha, images):
    return [
        ({"format": "raw", "host": alpha.pk}, {"thin.raw", "thick.raw"}),
        ({"pool": images.pk}, {"base.qcow2", "web1.qcow2", "thin.raw", "thick.raw"}),
        ({"search": "base.qcow2", "host": alpha.pk}, {"base.qcow2", "web1.qcow2"}),  # a backing path matches too
        ({"format": "iso"}, {"debian-12.iso"}),
    ]


class TestPoolList(ListViewTests):
    url_name = "storage:storagepool_list"

    @pytest.fixture
    def objects(self, two_hosts):
        self.filters = pool_filters(*two_hosts)
        return list(StoragePool.objects.all())

    def test_it_draws_capacity_bars(self, admin_client, objects):
        page = self.get(admin_client).content.decode()
        assert 'role="progressbar"' in page and "nfs-share" in page


class TestPoolDetail(DetailViewTests):
    url_name = "storage:storagepool_detail"

    @pytest.fixture
    def obj(self, images):
        return images

    def test_it_lists_the_pools_volumes_thin_or_thick(self, admin_client, obj):
        page = admin_client.get(obj.get_absolute_url()).content.decode()
        assert "web1.qcow2" in page and "thick.raw" in page and ">thin<" in page and ">thick<" in page

    def test_it_counts_every_volume_and_links_the_list_when_it_shows_the_first_ones(self, admin_client, obj,
                                                                                     monkeypatch):
        from storage.views import PoolDetailView

        monkeypatch.setattr(PoolDetailView, "volumes_shown", 2)
        response = admin_client.get(obj.get_absolute_url())
        assert len(response.context["volumes"]) == 2 and "4 volumes" in response.content.decode()
        link = response.content.decode().split('id="pool-volume-list" href="', 1)[1].split('"', 1)[0]
        listed = admin_client.get(link.replace("&amp;", "&"))
        assert {volume.name for volume in listed.context["page_obj"]} == set(obj.volumes.values_list("name", flat=True))


class TestPoolStop(ActionViewTests):
    url_name = "storage:storagepool_stop"

    @pytest.fixture
    def obj(self, images):
        return images

    def assert_done(self, obj, response):
        assert call(obj.host, lambda conn: virt_storage.collect_pool(conn, "images")).state == "inactive"
        assert StoragePool.objects.get(pk=obj.pk).state == "inactive" and not obj.volumes.exists()


class TestPoolStart(ActionViewTests):
    url_name = "storage:storagepool_start"

    @pytest.fixture
    def obj(self, images):
        return services.stop_pool(images)

    def assert_done(self, obj, response):
        assert call(obj.host, lambda conn: virt_storage.collect_pool(conn, "images")).state == "running"
        assert StoragePool.objects.get(pk=obj.pk).state == "running" and obj.volumes.count() == 4


class TestPoolRefresh(ActionViewTests):
    url_name = "storage:storagepool_refresh"

    @pytest.fixture
    def obj(self, images):
        return images


class TestPoolAutostart(ActionViewTests):
    url_name = "storage:storagepool_autostart"

    @pytest.fixture
    def obj(self, images):
        return images

    def assert_done(self, obj, response):
        assert StoragePool.objects.get(pk=obj.pk).autostart is True
        assert call(obj.host, lambda conn: virt_storage.collect_pool(conn, "images")).autostart is True


class TestPoolDelete(DeleteViewTests):
    url_name = "storage:storagepool_delete"

    @pytest.fixture
    def obj(self, storage_host):
        return StoragePool.objects.get(host=storage_host, name="iso")


class TestVolumeList(ListViewTests):
    url_name = "storage:volume_list"

    @pytest.fixture
    def objects(self, two_hosts):
        alpha = two_hosts[0]
        self.filters = volume_filters(alpha, StoragePool.objects.get(host=alpha, name="images"))
        return list(Volume.objects.all())

    def test_it_shows_each_volumes_backing_chain_linking_its_volumes(self, admin_client, images):
        base, web1 = volume(images, "base.qcow2"), volume(images, "web1.qcow2")
        Volume.objects.filter(pk=base.pk).update(backing_path="/srv/golden.qcow2", backing_format="qcow2")
        page = admin_client.get(f"{reverse(self.url_name)}?pool={images.pk}").content.decode()
        row = page.split(f'data-volume="{web1.pk}"', 1)[1].split("</tr>", 1)[0]
        chain = row.split('class="small backing-chain"', 1)[1]
        assert chain.index(base.get_absolute_url()) < chain.index("/srv/golden.qcow2")


class TestVolumeDetail(DetailViewTests):
    url_name = "storage:volume_detail"

    @pytest.fixture
    def obj(self, images):
        return volume(images, "web1.qcow2")

    def test_it_names_the_vms_using_it_and_its_backing_file(self, admin_client, obj):
        response = admin_client.get(obj.get_absolute_url())
        assert [user.name for user in response.context["users"]] == ["web1"]
        page = response.content.decode()
        assert "/var/lib/virtdeck-test/images/base.qcow2" in page and "vda" in page

    def test_it_shows_the_backing_chain_linking_each_volume(self, admin_client, obj, images):
        base = volume(images, "base.qcow2")
        Volume.objects.filter(pk=base.pk).update(backing_path="/srv/golden.qcow2", backing_format="qcow2")
        page = admin_client.get(obj.get_absolute_url()).content.decode()
        chain = page.split('id="backing-chain"', 1)[1].split("</dd>", 1)[0]
        assert chain.index(base.get_absolute_url()) < chain.index("/srv/golden.qcow2")


class TestVolumeDelete(DeleteViewTests):
    url_name = "storage:volume_delete"

    @pytest.fixture
    def obj(self, images):
        return volume(images, "thick.raw")

    def test_it_refuses_a_volume_in_use_and_says_by_whom(self, admin_client, images):
        used = volume(images, "web1.qcow2")
        response = admin_client.post(self.url(used.pk))
        assert response.status_code == 200 and "web1" in str(response.context["form"].non_field_errors())
        assert self.exists(used)


class TestPoolAPI(APIViewSetTests):
    list_url_name = "api-storage:storagepool-list"

    @pytest.fixture
    def objects(self, two_hosts):
        self.filters = pool_filters(*two_hosts)
        return list(StoragePool.objects.all())


class TestVolumeAPI(APIViewSetTests):
    list_url_name = "api-storage:volume-list"

    @pytest.fixture
    def objects(self, two_hosts):
        alpha = two_hosts[0]
        self.filters = volume_filters(alpha, StoragePool.objects.get(host=alpha, name="images"))
        return list(Volume.objects.all())


class TestPoolStopAPI(APIActionTests):
    url_name = "api-storage:storagepool-stop"
    status = 200

    @pytest.fixture
    def obj(self, images):
        return images

    def assert_done(self, obj, response):
        assert response.json()["state"] == "inactive"
        assert call(obj.host, lambda conn: virt_storage.collect_pool(conn, "images")).state == "inactive"


class TestPoolRefreshAPI(APIActionTests):
    url_name = "api-storage:storagepool-refresh"
    status = 200

    @pytest.fixture
    def obj(self, images):
        return images

    def assert_done(self, obj, response):
        assert response.json()["name"] == "images"
