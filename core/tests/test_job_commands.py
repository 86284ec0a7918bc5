"""A job's page shows the command lines that would do the same by hand (virt.commands), from its parameters."""
import html

import pytest

from core.jobs import commands_for
from core.models import Job
from storage.models import StoragePool, Volume

pytestmark = pytest.mark.django_db


def page(admin_client, job):
    response = admin_client.get(job.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def shown(admin_client, job):
    lines = [str(command) for command in commands_for(job)]
    content = page(admin_client, job)
    for line in lines:
        assert html.escape(line) in content  # the line, and the copy button's data-copy-command
        assert f'data-copy-command="{html.escape(line)}"' in content
    return lines


def test_it_shows_virsh_migrate_with_the_jobs_options(admin_client, make_host):
    source, target = make_host("small"), make_host("empty", migration_address="10.0.0.2")
    job = Job.objects.create(kind="migrate", target_name="web1", params={
        "instance_id": 1, "source_id": source.pk, "target_id": target.pk,
        "options": {"live": True, "persistent": True, "undefine_source": True, "storage": "copy_all",
                    "peer2peer": True, "tunnelled": False, "max_bandwidth_mib": 32, "max_downtime_ms": None,
                    "auto_converge": False, "post_copy": False, "compressed": False, "unsafe": False}})
    (line,) = shown(admin_client, job)
    assert line.startswith(f"virsh -c {source.uri} migrate --live --persistent --undefinesource --p2p "
                           "--copy-storage-all --bandwidth 32 --verbose web1 ")
    assert line.endswith("--migrateuri tcp://10.0.0.2")


def test_it_shows_qemu_img_convert_for_a_conversion_and_vol_clone_for_a_copy(admin_client, make_host):
    host = make_host("storage")
    images = StoragePool.objects.get(host=host, name="images")
    raw = Volume.objects.get(pool=images, name="thin.raw")
    convert = Job.objects.create(kind="convert_volume", target_name=raw.name, params={
        "volume_id": raw.pk, "name": "thin.qcow2", "target_pool_id": images.pk, "volume_format": "qcow2",
        "allocation": "metadata"})
    assert shown(admin_client, convert) == [
        "qemu-img convert -p -f raw -O qcow2 -o preallocation=metadata /var/lib/virtdeck-test/images/thin.raw "
        "/var/lib/virtdeck-test/images/thin.qcow2"]
    clone = Job.objects.create(kind="clone_volume", target_name=raw.name, params={
        "volume_id": raw.pk, "name": "copy of thin.raw", "target_pool_id": images.pk, "volume_format": None,
        "allocation": "thin"})
    assert shown(admin_client, clone) == [f"virsh -c {host.uri} vol-clone thin.raw 'copy of thin.raw' --pool images"]


def test_it_shows_define_and_start_for_a_create(admin_client, make_host):
    host = make_host("small")
    job = Job.objects.create(kind="create_instance", target_name="web 2", params={
        "host_id": host.pk, "xml": "<domain/>", "start": True,
        "volume": {"pool": "images", "name": "web2.qcow2", "capacity": 8 << 30, "format": "qcow2",
                   "allocation": "thin"}})
    assert shown(admin_client, job) == [
        f"virsh -c {host.uri} vol-create-as images web2.qcow2 8G --format qcow2 --allocation 0",
        f"virsh -c {host.uri} define 'web 2.xml'", f"virsh -c {host.uri} start 'web 2'"]


def test_it_shows_nothing_when_the_objects_are_gone_or_the_kind_has_no_command(admin_client, make_host):
    gone = Job.objects.create(kind="convert_volume", params={"volume_id": 999999, "name": "x", "target_pool_id": 1})
    other = Job.objects.create(kind="wait", params={"seconds": 1})
    bare = Job.objects.create(kind="migrate")  # no parameters at all
    for job in (gone, other, bare):
        assert commands_for(job) == []
        assert "data-copy-command" not in page(admin_client, job)
