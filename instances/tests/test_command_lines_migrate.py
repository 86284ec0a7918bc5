"""The Migrate page shows the `virsh migrate` line for the options as they are set, recomputed by the server
(GET ?commands=1 with the form's fields), and the job shows the same line once it runs."""
import html

import pytest
from django.urls import reverse

from hosts.models import Host
from instances.models import Instance
from instances.tests.test_migration_views import web1  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def preview(admin_client, vm, **fields):
    url = reverse("instances:instance_migrate", args=[vm.pk])
    response = admin_client.get(url, {"commands": "1", **fields}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_it_asks_for_the_line_as_the_form_changes(admin_client, web1):  # noqa: F811
    page = admin_client.get(reverse("instances:instance_migrate", args=[web1.pk])).content.decode()
    assert 'id="migrate-form"' in page and "data-command-preview" in page
    assert f'hx-get="{reverse("instances:instance_migrate", args=[web1.pk])}?commands=1"' in page
    assert 'hx-params="not csrfmiddlewaretoken"' in page


def test_it_shows_the_virsh_migrate_line_for_the_chosen_options(admin_client, web1):  # noqa: F811
    target = Host.objects.get(name="empty")
    Host.objects.filter(pk=target.pk).update(migration_address="10.77.0.2")
    page = preview(admin_client, web1, target_host=target.pk, live="on", storage="copy_all", peer2peer="on",
                   persistent="on", max_bandwidth_mib="16", max_downtime_ms="300", post_copy="on")
    assert "virsh -c " + html.escape(web1.host.uri) + " migrate --live --persistent --p2p --postcopy " \
           "--copy-storage-all --bandwidth 16 --verbose web1" in page
    assert "--migrateuri tcp://10.77.0.2" in page
    assert "migrate-setmaxdowntime web1 300" in page and "migrate-postcopy web1" in page
    page = preview(admin_client, web1, target_host=target.pk, storage="shared", tunnelled="on", peer2peer="on")
    assert "--tunnelled" in page and "--live" not in page and "--undefinesource" not in page
    assert "--migrateuri" not in page  # a tunnelled stream goes through libvirtd's own connection


def test_it_shows_a_hint_not_a_line_while_the_form_is_invalid(admin_client, web1):  # noqa: F811
    page = preview(admin_client, web1, target_host="nope", storage="shared")
    assert "data-command-hint" in page and "virsh" not in page
    page = preview(admin_client, web1, target_host=web1.host_id, storage="shared")  # not a target: its own host
    assert "virsh" not in page


def test_it_keeps_a_hostile_name_one_shell_word(admin_client, web1):  # noqa: F811
    Instance.objects.filter(pk=web1.pk).update(name="web 1;$(reboot)'")
    web1.refresh_from_db()
    target = Host.objects.get(name="empty")
    page = preview(admin_client, web1, target_host=target.pk, storage="shared", live="on")
    assert html.escape("--verbose 'web 1;$(reboot)'\"'\"''") in page


def test_it_refuses_the_preview_to_a_user_without_the_vm(client, web1):  # noqa: F811
    url = reverse("instances:instance_migrate", args=[web1.pk])
    assert client.get(url, {"commands": "1"}).status_code == 302  # to the login page
