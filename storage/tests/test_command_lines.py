"""The volume and pool create pages show the virsh lines for the form's values, as the form changes (GET
?commands=1); asking creates nothing."""
import html
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from hosts.connection import call
from storage.models import StoragePool
from virt import storage as virt_storage
from virt.xml.storage import build_pool

pytestmark = pytest.mark.django_db
VOLUME = {"name": "d.qcow2", "capacity_0": "1.5", "capacity_1": "GiB", "format": "qcow2", "allocation": "thin"}


def preview(admin_client, url, **fields):
    """GET as htmx asks: the page's own URL (its ?host=&type= kept) plus the form's fields."""
    response = admin_client.get(f"{url}{'&' if '?' in url else '?'}{urlencode({'commands': '1', **fields})}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("format_, allocation, tail", [
    ("qcow2", "thin", "--format qcow2 --allocation 0"),
    ("qcow2", "metadata", "--format qcow2 --allocation 0 --prealloc-metadata"),
    ("raw", "thick", "--format raw --allocation 1536M"),
])
def test_it_shows_vol_create_as_for_the_allocation_policy(admin_client, images, format_, allocation, tail):
    url = reverse("storage:volume_add", args=[images.pk])
    page = preview(admin_client, url, **{**VOLUME, "format": format_, "allocation": allocation})
    line = f"virsh -c {images.host.uri} vol-create-as images d.qcow2 1536M {tail}"
    assert f'data-copy-command="{html.escape(line)}"' in page
    assert not images.volumes.filter(name="d.qcow2").exists()


def test_it_shows_no_line_for_a_policy_the_create_refuses(admin_client, images):
    url = reverse("storage:volume_add", args=[images.pk])
    page = preview(admin_client, url, **{**VOLUME, "format": "raw", "allocation": "metadata"})
    assert "data-command-hint" in page and "vol-create-as" not in page and "Metadata preallocation" in page
    page = preview(admin_client, url, **{**VOLUME, "capacity_0": "-1"})
    assert "data-command-hint" in page and "vol-create-as" not in page


def test_it_keeps_a_hostile_volume_name_one_shell_word(admin_client, images):
    page = preview(admin_client, reverse("storage:volume_add", args=[images.pk]), **{**VOLUME, "name": "a b;`id`"})
    assert html.escape("images 'a b;`id`' 1536M") in page


def test_it_shows_pool_define_of_the_xml_then_build_start_autostart(admin_client, storage_host):
    url = f"{reverse('storage:storagepool_add')}?host={storage_host.pk}&type=dir"
    page = admin_client.get(url).content.decode()
    assert 'hx-include="#pool-form"' in page and html.escape("type=dir&commands=1") in page
    page = preview(admin_client, url, name="scratch", target_path="/srv/scratch", build="on", start="on",
                   autostart="on")
    uri = storage_host.uri
    for line in (f"virsh -c {uri} pool-define scratch.xml", f"virsh -c {uri} pool-build scratch",
                 f"virsh -c {uri} pool-start scratch", f"virsh -c {uri} pool-autostart scratch"):
        assert f'data-copy-command="{html.escape(line)}"' in page, line
    assert html.escape(build_pool("dir", "scratch", target_path="/srv/scratch").to_xml()) in page
    page = preview(admin_client, url, name="scratch", target_path="/srv/scratch")  # unchecked: define only
    assert "pool-define" in page and "pool-build" not in page and "pool-start" not in page
    assert not StoragePool.objects.filter(name="scratch").exists()
    assert "scratch" not in {pool.name for pool in call(storage_host, virt_storage.collect_pools)}


def test_it_shows_the_pools_refusal_instead_of_a_line(admin_client, storage_host):
    url = f"{reverse('storage:storagepool_add')}?host={storage_host.pk}&type=dir"
    page = preview(admin_client, url, name="x", target_path="srv")
    assert "data-command-hint" in page and "pool-define" not in page and "target_path" in page


def test_it_shows_qemu_img_convert_for_the_conversion_and_the_same_on_the_jobs_page(admin_client, images):
    from core.jobs import commands_for
    from core.models import Job
    from storage.tests.conftest import volume

    thin = volume(images, "thin.raw")
    url = reverse("storage:volume_convert", args=[thin.pk])
    page = preview(admin_client, url, format="qcow2", allocation="metadata", name="", pool=images.pk)
    line = f"qemu-img convert -p -f raw -O qcow2 -o preallocation=metadata {thin.path} " \
           f"{images.target_path.rstrip('/')}/thin.qcow2"
    assert f'data-copy-command="{html.escape(line)}"' in page and "on the host" in page
    admin_client.post(url, {"format": "qcow2", "allocation": "metadata", "name": "", "pool": images.pk})
    assert [str(command) for command in commands_for(Job.objects.get())] == [line]


def test_it_shows_vol_clone_for_a_thin_copy_in_the_same_pool(admin_client, images):
    from storage.tests.conftest import volume

    thin = volume(images, "thin.raw")
    page = preview(admin_client, reverse("storage:volume_clone", args=[thin.pk]), name="copy;1.raw", pool=images.pk,
                   format="", allocation="thin")
    line = f"virsh -c {images.host.uri} vol-clone thin.raw 'copy;1.raw' --pool images"
    assert f'data-copy-command="{html.escape(line)}"' in page
