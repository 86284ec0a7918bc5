"""The Snapshots section of a VM's page on libvirt's test driver: the tree, create, revert, delete (confirmed).

Results are read back through libvirt (the app's own test-driver connection, see test_snapshots_api.py).
"""
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from instances.choices import InstanceState
from instances.models import Instance
from instances.snapshots import native_external_revert
from core.models import Job
from instances.tests.jobs import last_job, run_queued
from instances.tests.test_snapshots_api import current_snapshot, libvirt_snapshots, on_libvirt

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def web1(make_host):
    make_host("small")
    return Instance.objects.get(name="web1")


def section_url(vm):
    return reverse("instances:instance_snapshots", args=[vm.pk])


def create_url(vm):
    return reverse("instances:instance_snapshot_create", args=[vm.pk])


def revert_url(vm, name):
    return reverse("instances:instance_snapshot_revert", args=[vm.pk, name])


def delete_url(vm, name):
    return reverse("instances:instance_snapshot_delete", args=[vm.pk, name])


def message_levels(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def take(client, vm, name, kind="internal", description=""):
    """Take a snapshot from the page and run its job."""
    response = client.post(create_url(vm), {"name": name, "kind": kind, "description": description})
    assert response.status_code == 302, response.content
    assert last_job().status == "succeeded"
    return response


def test_it_loads_the_section_into_the_vm_page(admin_client, web1):
    page = admin_client.get(web1.get_absolute_url()).content.decode()
    assert 'id="snapshots"' in page and f'hx-get="{section_url(web1)}"' in page and 'hx-trigger="load"' in page


def test_it_shows_the_tree_indented_with_the_current_one_marked(admin_client, web1):
    take(admin_client, web1, "base", description="clean install")
    take(admin_client, web1, "branch-a")
    admin_client.post(revert_url(web1, "base"))
    assert last_job().status == "succeeded"
    take(admin_client, web1, "branch-b")

    response = admin_client.get(section_url(web1), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content  # the section alone, for htmx
    assert [(s["name"], s["depth"], s["current"]) for s in response.context["snapshots"]] == [
        ("base", 0, False), ("branch-a", 1, False), ("branch-b", 1, True)]
    assert content.index('data-snapshot="base"') < content.index('data-snapshot="branch-a"') \
        < content.index('data-snapshot="branch-b"')
    assert 'padding-left: calc(1 * 1.25rem)' in content and "clean install" in content
    current_row = content[content.index('data-snapshot="branch-b"'):].split("</tr>")[0]
    assert 'aria-current="true"' in current_row and "current" in current_row
    assert "Internal or external?" in content and "cannot revert to external snapshots" in content


def test_it_shows_a_whole_page_to_a_browser_without_htmx(admin_client, web1):
    response = admin_client.get(section_url(web1))
    assert response.status_code == 200 and "<html" in response.content.decode() and "No snapshots." in \
        response.content.decode()


def test_it_takes_a_snapshot_as_a_job_and_shows_its_page(admin_client, web1):
    response = admin_client.post(create_url(web1), {"name": "before upgrade", "kind": "internal",
                                                    "description": "pre"})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert message_levels(response) == [("success", f"Taking snapshot before upgrade of web1: job #{job.pk}.")]
    assert run_queued(job).status == "succeeded"
    assert libvirt_snapshots(web1) == ["before upgrade"] and current_snapshot(web1) == "before upgrade"
    page = admin_client.get(job.get_absolute_url()).content.decode()
    assert "Snapshot create" in page and "Snapshot before upgrade of web1 taken." in page


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "a/b"}, "name"), ({"name": "../x"}, "name"), ({"name": ""}, "name"), ({"name": "x" * 241}, "name"),
    ({"name": "nul\x00"}, "name"), ({"name": "\u202eevil"}, "name"), ({"name": "ok", "kind": "bogus"}, "kind"),
    ({"name": "ok", "description": "x" * 1001}, "description"),
    ({"name": "ok", "description": "\x1b[2J"}, "description"),
])
def test_it_shows_the_form_again_with_the_error_beside_the_field(admin_client, web1, data, field):
    response = admin_client.post(create_url(web1), {"kind": "internal", **data})

    assert response.status_code == 400 and list(response.context["form"].errors) == [field]
    assert "invalid-feedback" in response.content.decode()
    assert libvirt_snapshots(web1) == [] and not Job.objects.exists()


def test_it_refuses_a_duplicate_name_beside_the_field(admin_client, web1):
    take(admin_client, web1, "base")

    response = admin_client.post(create_url(web1), {"name": "base", "kind": "internal"})

    assert response.status_code == 400 and "already has a snapshot named base" in response.context["form"].errors[
        "name"][0]
    assert libvirt_snapshots(web1) == ["base"]


def test_it_reverts_in_a_job_that_says_how_and_refreshes_the_row(admin_client, web1):
    take(admin_client, web1, "up")
    on_libvirt(web1, lambda dom: dom.destroy())
    Instance.objects.filter(pk=web1.pk).update(state=InstanceState.SHUTOFF)

    response = admin_client.post(revert_url(web1, "up"))

    job = Job.objects.get(kind="snapshot_revert")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert message_levels(response)[-1] == ("success", f"Reverting web1 to up: job #{job.pk}.")
    assert run_queued(job).status == "succeeded"
    assert "web1 reverted to up. Reverted by libvirt." in admin_client.get(job.get_absolute_url()).content.decode()
    assert Instance.objects.get(pk=web1.pk).state == InstanceState.RUNNING


def test_it_says_why_a_revert_failed(admin_client, web1):
    response = admin_client.post(revert_url(web1, "missing"))

    [(level, text)] = message_levels(response)
    assert response.status_code == 302 and level == "error" and "missing" in text
    assert response["Location"].endswith("#snapshots") and not Job.objects.exists()


def test_it_asks_before_deleting_then_deletes(admin_client, web1):
    take(admin_client, web1, "old one")

    confirm = admin_client.get(delete_url(web1, "old one"))

    content = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete snapshot old one of web1?" in content and 'method="post"' in content
    assert libvirt_snapshots(web1) == ["old one"]
    response = admin_client.post(delete_url(web1, "old one"))
    job = Job.objects.get(kind="snapshot_delete")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert message_levels(response) == [("success", f"Deleting snapshot old one of web1: job #{job.pk}.")]
    assert run_queued(job).status == "succeeded"
    assert libvirt_snapshots(web1) == []


def test_it_needs_a_csrf_token_for_every_write(admin_user, admin_client, web1):
    take(admin_client, web1, "keep")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)

    assert strict.post(create_url(web1), {"name": "new", "kind": "internal"}).status_code == 403
    assert strict.post(revert_url(web1, "keep")).status_code == 403
    assert strict.post(delete_url(web1, "keep")).status_code == 403
    assert libvirt_snapshots(web1) == ["keep"]


def test_it_writes_only_by_post(admin_client, web1):
    take(admin_client, web1, "keep")
    assert admin_client.get(create_url(web1)).status_code == 405
    assert admin_client.get(revert_url(web1, "keep")).status_code == 405
    assert admin_client.post(section_url(web1)).status_code == 405
    assert libvirt_snapshots(web1) == ["keep"]


def test_it_answers_404_for_a_missing_vm(admin_client, web1):
    missing = web1.pk + 1000
    assert admin_client.get(reverse("instances:instance_snapshots", args=[missing])).status_code == 404
    assert admin_client.post(reverse("instances:instance_snapshot_create", args=[missing]),
                             {"name": "x"}).status_code == 404


def test_it_says_when_the_host_cannot_be_read(admin_client, web1):
    web1.host.uri = "qemu+tcp://127.0.0.1:1/system"
    web1.host.save(update_fields=["uri"])

    response = admin_client.get(section_url(web1), headers=HTMX)

    assert response.status_code == 200 and "could not be read from the host" in response.content.decode()


@pytest.fixture
def snappy(make_host):
    """Shut off, on the overlay of its external snapshot e1 (core/testing/nodes/snapshots.xml)."""
    make_host("snapshots")
    return Instance.objects.get(name="snappy")


def revert_button(content, name):
    row = content[content.index(f'data-snapshot="{name}"'):].split("</tr>")[0]
    return row[row.index('data-action="revert"') - 120:].split("</button>")[0]


def test_it_offers_virtdecks_own_revert_of_an_external_snapshot_only_when_shut_off(admin_client, snappy):
    if native_external_revert(snappy.host):
        pytest.skip("this libvirt reverts to external snapshots itself")
    content = admin_client.get(section_url(snappy), headers=HTMX).content.decode()
    assert "Revert (by virtdeck)" in revert_button(content, "e1") and "disabled" not in revert_button(content, "e1")

    Instance.objects.filter(pk=snappy.pk).update(state=InstanceState.RUNNING)
    content = admin_client.get(section_url(snappy), headers=HTMX).content.decode()

    assert "disabled" in revert_button(content, "e1") and "Shut the VM off first" in revert_button(content, "e1")


@pytest.mark.parametrize("name", ["50% done #1?", "a&b=c", "tab:colon;semi", "ünï cödé", "x" * 240])
def test_it_reverts_and_deletes_snapshots_whatever_their_name(admin_client, web1, name):
    take(admin_client, web1, name)

    assert admin_client.post(revert_url(web1, name)).status_code == 302
    assert last_job().status == "succeeded" and current_snapshot(web1) == name
    assert admin_client.get(delete_url(web1, name)).status_code == 200
    response = admin_client.post(delete_url(web1, name))
    assert message_levels(response)[-1][0] == "success"
    assert last_job().status == "succeeded" and libvirt_snapshots(web1) == []
