"""storage.services against libvirt's test driver (core/testing/nodes/storage.xml), read back through libvirt."""
import pytest

from core.models import Job
from hosts.connection import call
from storage import services
from storage.models import StoragePool, Volume
from virt import storage as virt_storage
from virt import volumes as virt_volumes
from virt.errors import InvalidConfig, OperationInvalid

from .conftest import volume

pytestmark = pytest.mark.django_db


def on_host(host, pool_name):
    """The pool's volumes as libvirt lists them now: name -> VolumeRecord."""
    return {v.name: v for v in call(host, lambda conn: virt_volumes.collect_volumes(conn, pool_name))}


def test_it_creates_a_volume_and_stores_what_libvirt_reports(storage_host, images):
    made = services.create_volume(images, "new.qcow2", 3 * 2**30, "qcow2", "thin")
    listed = on_host(storage_host, "images")["new.qcow2"]
    assert (listed.format, listed.capacity) == ("qcow2", 3 * 2**30)
    assert (made.format, made.capacity, made.path) == ("qcow2", listed.capacity, listed.path)
    assert made.pool == images and images.volumes.count() == 5


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "..", "-rf", "", "x" * 300, "bad\x00name", "\u202eevil"])
def test_it_refuses_bad_names_before_libvirt(storage_host, images, name):
    with pytest.raises(InvalidConfig):
        services.create_volume(images, name, 2**20)
    assert set(on_host(storage_host, "images")) == {"base.qcow2", "web1.qcow2", "thin.raw", "thick.raw"}


@pytest.mark.parametrize("capacity", [-1, 0, 2**60, 10**30, "10", 1.5, True, None])
def test_it_refuses_bad_sizes(storage_host, images, capacity):
    with pytest.raises(InvalidConfig, match="capacity"):
        services.create_volume(images, "sized", capacity)
    assert "sized" not in on_host(storage_host, "images")


@pytest.mark.parametrize("volume_format,allocation", [("vmdk", "thin"), ("qcow3", "thin"), ("raw", "metadata"),
                                                      ("raw", "sparse"), ("", "thin")])
def test_it_refuses_unknown_formats_and_policies(storage_host, images, volume_format, allocation):
    with pytest.raises(InvalidConfig):
        services.create_volume(images, "fmt", 2**20, volume_format, allocation)
    assert "fmt" not in on_host(storage_host, "images") and not images.volumes.filter(name="fmt").exists()


def test_it_refuses_a_name_taken_in_the_pool(storage_host, images):
    with pytest.raises(InvalidConfig, match="exists"):
        services.create_volume(images, "thin.raw", 2**20)


def test_it_refuses_volumes_in_a_stopped_pool(storage_host, images):
    stopped = services.stop_pool(images)
    with pytest.raises(OperationInvalid, match="not running"):
        services.create_volume(stopped, "late.raw", 2**20)


def test_it_refuses_to_shrink_unless_asked(storage_host, images):
    """(libvirt's test driver cannot resize: growing is tested on the lab, test_lab_storage.py.)"""
    with pytest.raises(InvalidConfig, match="shrink"):
        services.resize_volume(volume(images, "thin.raw"), 2**30)
    for capacity in (-5, 0, 2**60):
        with pytest.raises(InvalidConfig, match="capacity"):
            services.resize_volume(volume(images, "thin.raw"), capacity)
    assert on_host(storage_host, "images")["thin.raw"].capacity == 4 * 2**30


def test_it_refuses_to_delete_a_volume_a_vm_uses_naming_the_vm(storage_host, images):
    with pytest.raises(InvalidConfig, match="web1"):
        services.delete_volume(volume(images, "web1.qcow2"))
    assert "web1.qcow2" in on_host(storage_host, "images") and images.volumes.filter(name="web1.qcow2").exists()


def test_it_refuses_to_delete_the_backing_file_of_another_volume(storage_host, images):
    with pytest.raises(InvalidConfig, match="backing file of web1.qcow2"):
        services.delete_volume(volume(images, "base.qcow2"))
    assert "base.qcow2" in on_host(storage_host, "images")


def test_it_names_the_vms_using_a_volume(storage_host, images):
    assert [user.name for user in services.volume_users(volume(images, "web1.qcow2"))] == ["web1"]
    assert services.volume_users(volume(images, "thin.raw")) == []


def test_it_follows_the_backing_chain_through_the_inventory(storage_host, images):
    web1, base = volume(images, "web1.qcow2"), volume(images, "base.qcow2")
    assert [(link.path, link.format, link.volume) for link in services.backing_chain(web1)] == [
        (base.path, "qcow2", base)]
    # libvirt names only the first backing file: deeper links come from the rows (base.qcow2 made an overlay
    # of a golden image outside virtdeck, which is no volume of the host)
    Volume.objects.filter(pk=base.pk).update(backing_path="/srv/golden.qcow2", backing_format="qcow2")
    chain = services.backing_chain(web1)
    assert [(link.path, link.volume) for link in chain] == [(base.path, base), ("/srv/golden.qcow2", None)]
    assert services.backing_chain(volume(images, "thin.raw")) == []


def test_it_stops_the_backing_chain_at_a_loop_in_stale_rows(storage_host, images):
    web1, base = volume(images, "web1.qcow2"), volume(images, "base.qcow2")
    Volume.objects.filter(pk=base.pk).update(backing_path=web1.path)
    assert [link.volume for link in services.backing_chain(web1)] == [base]


def test_it_reads_a_pages_backing_chains_in_one_query_per_level(storage_host, images,
                                                                 django_assert_num_queries):
    """However many volumes a list shows, their chains cost one query per level of the deepest."""
    base, web1 = volume(images, "base.qcow2"), volume(images, "web1.qcow2")
    Volume.objects.filter(pk=base.pk).update(backing_path="/srv/golden.qcow2", backing_format="qcow2")
    overlays = [Volume.objects.create(pool=images, name=f"overlay{i}.qcow2", path=f"/var/lib/virtdeck-test/images/overlay{i}.qcow2",
                                      key=f"overlay{i}", format="qcow2", capacity=1, backing_path=web1.path,
                                      backing_format="qcow2") for i in range(20)]
    for shown in (overlays[:2], overlays):
        page = list(Volume.objects.filter(pk__in=[o.pk for o in shown]).select_related("pool"))
        with django_assert_num_queries(3):  # web1, then base, then golden (no row): three levels
            services.attach_backing_chains(page)
        assert {tuple(link.volume for link in v.backing_chain) for v in page} == {(web1, base, None)}
        assert page[0].backing_chain[2].path == "/srv/golden.qcow2"


def test_it_deletes_a_volume_nobody_uses(storage_host, images):
    services.delete_volume(volume(images, "thick.raw"))
    assert "thick.raw" not in on_host(storage_host, "images") and not images.volumes.filter(name="thick.raw").exists()


def test_it_creates_a_dir_pool_and_reads_it_back(storage_host):
    pool = services.create_pool(storage_host, "dir", "scratch", {"target_path": "/var/lib/virtdeck-test/scratch"},
                                autostart=True)
    record = call(storage_host, lambda conn: virt_storage.collect_pool(conn, "scratch"))
    assert (record.type, record.target_path, record.autostart, record.state) == (
        "dir", "/var/lib/virtdeck-test/scratch", True, "running")
    assert (pool.type, pool.target_path, pool.autostart, pool.state) == ("dir", record.target_path, True, "running")


@pytest.mark.parametrize("pool_type,name,fields,field", [
    ("dir", "p1", {}, "target_path"),
    ("dir", "p1", {"target_path": "relative/path"}, "target_path"),
    ("dir", "../p1", {"target_path": "/x"}, "name"),
    ("dir", "p1", {"target_path": "/x", "source_host": "nas"}, "source_host"),
    ("netfs", "p1", {"target_path": "/x", "source_dir": "/e"}, "source_host"),
    ("netfs", "p1", {"target_path": "/x", "source_dir": "/e", "source_host": "nas", "source_format": "ntfs"},
     "source_format"),
    ("ntfs", "p1", {}, "type"),
])
def test_it_refuses_bad_pool_input_before_libvirt(storage_host, pool_type, name, fields, field):
    with pytest.raises(InvalidConfig):
        services.create_pool(storage_host, pool_type, name, fields)
    assert {r.name for r in call(storage_host, virt_storage.collect_pools)} == {"images", "iso", "vg0", "nfs-share"}
    assert StoragePool.objects.filter(host=storage_host).count() == 4


def test_it_starts_stops_refreshes_and_toggles_autostart(storage_host, images):
    assert services.stop_pool(images).state == "inactive"
    assert services.start_pool(images).state == "running"
    assert services.refresh_pool(images).volumes.count() == 4
    assert services.toggle_pool_autostart(images).autostart is True
    assert call(storage_host, lambda conn: virt_storage.collect_pool(conn, "images")).autostart is True
    assert services.set_pool_autostart(images, False).autostart is False


def test_it_deletes_a_pool_keeping_its_storage(storage_host):
    iso = StoragePool.objects.get(host=storage_host, name="iso")
    services.delete_pool(iso)
    assert call(storage_host, lambda conn: virt_storage.collect_pool(conn, "iso")) is None
    assert not StoragePool.objects.filter(pk=iso.pk).exists() and not Volume.objects.filter(pool_id=iso.pk).exists()


def test_it_refuses_to_delete_the_storage_of_a_pool_with_volumes(storage_host, images):
    with pytest.raises(InvalidConfig, match="still holds 4 volume"):
        services.delete_pool(images, delete_storage=True)
    assert StoragePool.objects.filter(pk=images.pk).exists()


def test_it_checks_a_clone_before_starting_its_job(storage_host, images, make_host):
    other = StoragePool.objects.get(host=make_host("other", uri=storage_host.uri), name="iso")
    source = volume(images, "thin.raw")
    for kwargs, problem in (({"name": "../x"}, InvalidConfig), ({"name": "thick.raw"}, InvalidConfig),
                            ({"name": "c", "volume_format": "vmdk"}, InvalidConfig),
                            ({"name": "c", "allocation": "metadata", "volume_format": "raw"}, InvalidConfig),
                            ({"name": "c", "target_pool": other}, InvalidConfig)):
        with pytest.raises(problem):
            services.clone_volume(source, **kwargs)
    assert not Job.objects.exists()


def test_it_queues_a_clone_job(storage_host, images, django_capture_on_commit_callbacks):
    """The copy itself runs on the lab (test_lab_storage.py): the test driver's state is per connection."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.clone_volume(volume(images, "thin.raw"), "copy.qcow2", volume_format="qcow2")
    assert (job.kind, job.status, job.host, job.target_name) == ("clone_volume", "queued", storage_host, "thin.raw")
    assert job.params["name"] == "copy.qcow2" and job.params["volume_format"] == "qcow2" and len(callbacks) == 1


def test_it_asks_for_a_format_when_copying_a_volume_of_another_one(storage_host):
    iso = StoragePool.objects.get(host=storage_host, name="iso")
    with pytest.raises(InvalidConfig, match="format: the source is iso"):
        services.clone_volume(volume(iso, "debian-12.iso"), "copy.iso")
    assert services.clone_volume(volume(iso, "debian-12.iso"), "debian.raw", volume_format="raw").kind == "clone_volume"


def test_it_drops_the_row_of_a_volume_already_deleted_on_the_host(storage_host, images):
    call(storage_host, lambda conn: conn.storagePoolLookupByName("images").storageVolLookupByName("thin.raw").delete(0))
    services.delete_volume(volume(images, "thin.raw"))
    assert not images.volumes.filter(name="thin.raw").exists()


def test_it_switches_a_vm_only_when_it_is_shut_off_and_uses_the_volume(storage_host, images):
    from instances.inventory import refresh_one
    from instances.models import Instance

    web1 = Instance.objects.get(host=storage_host, name="web1")
    with pytest.raises(InvalidConfig, match="shut-off"):
        services.convert_volume(volume(images, "web1.qcow2"), "raw", instance=web1)
    call(storage_host, lambda conn: conn.lookupByName("web1").destroy())
    web1 = refresh_one(storage_host, str(web1.uuid))
    with pytest.raises(InvalidConfig, match="no disk on thin.raw"):
        services.convert_volume(volume(images, "thin.raw"), "qcow2", instance=web1)
    assert not Job.objects.exists()
    job = services.convert_volume(volume(images, "web1.qcow2"), "raw", instance=web1)
    assert (job.kind, job.params["instance_id"], job.params["name"]) == ("convert_volume", web1.pk, "web1.raw")
