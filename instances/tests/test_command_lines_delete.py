"""The delete dialog shows `virsh undefine` as the delete does it, following the "also delete its disk images"
box (GET ?commands=1, before the name is typed); asking deletes nothing."""
import html

import pytest
from django.urls import reverse

from instances.models import Instance
from instances.services import on_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def db1(make_host):
    return Instance.objects.get(host=make_host("small"), name="db1")


def preview(admin_client, vm, **fields):
    response = admin_client.get(reverse("instances:instance_delete", args=[vm.pk]), {"commands": "1", **fields})
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_undefine_with_or_without_the_images(admin_client, db1):
    page = admin_client.get(reverse("instances:instance_delete", args=[db1.pk])).content.decode()
    assert 'hx-include="closest form"' in page and "?commands=1" in page
    line = f"virsh -c {db1.host.uri} undefine db1 --managed-save --snapshots-metadata --nvram"
    assert f'data-copy-command="{html.escape(line)}"' in preview(admin_client, db1)
    assert "--storage" not in preview(admin_client, db1, delete_volumes="on")  # db1 has no disk
    web1 = Instance.objects.get(host=db1.host, name="web1")
    line = f"virsh -c {db1.host.uri} undefine web1 --managed-save --snapshots-metadata --nvram"
    assert html.escape(f"{line} --storage /var/lib/libvirt/images/web1.qcow2") in preview(
        admin_client, web1, delete_volumes="on")
    assert on_domain(web1, lambda dom: dom.xml_desc(inactive=True)).count("web1.qcow2") == 1  # still defined
    assert "<name>db1</name>" in on_domain(db1, lambda dom: dom.xml_desc())  # still defined


def test_it_quotes_a_hostile_name(admin_client, db1):
    Instance.objects.filter(pk=db1.pk).update(name="db 1'")
    db1.refresh_from_db()
    assert html.escape("undefine 'db 1'\"'\"''") in preview(admin_client, db1)
