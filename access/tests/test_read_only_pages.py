"""What a viewer sees: the VM's pages without the forms whose submit would be refused; and a clone made by an
operator who holds only the source VM's grant is theirs too."""
import pytest
from django.urls import reverse

from access.models import CAPABILITIES, Grant, Role
from core.models import Job
from core.testing.personas import PersonaTests, api_for, client_for
from instances.creation_tasks import clone_instance_task
from instances.models import Instance

CLONE_FORM = 'id="clone"'
MIGRATE_LINK = 'id="detail-migration"'
XML_LINK = 'id="detail-xml"'
SNAPSHOT_FORM = "data-snapshot-create"


class TestReadOnlyPages(PersonaTests):
    @pytest.fixture(autouse=True)
    def _viewer(self, _personas, django_user_model):
        self.viewer = django_user_model.objects.create_user("viewer", "viewer@example.org", "x")
        Grant.objects.create(user=self.viewer, role=Role.VIEWER, instance=self.vm)

    def page(self, user, name):
        return client_for(user).get(reverse(name, args=[self.vm.pk]))

    def test_it_shows_a_viewer_the_vm_without_its_write_forms(self):
        page = self.page(self.viewer, "instances:instance_detail").content.decode()
        assert self.vm.name in page
        for form in (CLONE_FORM, MIGRATE_LINK, XML_LINK):
            assert form not in page, form
        page = self.page(self.operator, "instances:instance_detail").content.decode()
        for form in (CLONE_FORM, MIGRATE_LINK, XML_LINK):
            assert form in page, form

    def test_it_shows_a_viewer_the_snapshots_without_take_revert_or_delete(self):
        page = client_for(self.viewer).get(reverse("instances:instance_snapshots", args=[self.vm.pk]),
                                           HTTP_HX_REQUEST="true").content.decode()
        assert "data-snapshot-tree" in page
        assert SNAPSHOT_FORM not in page and 'data-action="revert"' not in page and 'data-action="delete"' not in page
        page = client_for(self.operator).get(reverse("instances:instance_snapshots", args=[self.vm.pk]),
                                             HTTP_HX_REQUEST="true").content.decode()
        assert SNAPSHOT_FORM in page

    def test_it_shows_a_viewer_the_hardware_read_only(self):
        page = self.page(self.viewer, "instances:instance_hardware").content.decode()
        assert 'id="read-only-note"' in page and "<fieldset" in page and " disabled>" in page
        page = self.page(self.operator, "instances:instance_hardware").content.decode()
        assert 'id="read-only-note"' not in page and " disabled>" not in page.split("<fieldset", 1)[1][:80]

    def test_it_shows_a_viewer_the_xml_without_the_editor(self):
        page = self.page(self.viewer, "instances:instance_xml").content.decode()
        assert 'id="xml-read-only"' in page and 'id="xml-form"' not in page
        assert "&lt;domain" in page  # the definition itself, escaped
        page = self.page(self.operator, "instances:instance_xml").content.decode()
        assert 'id="xml-form"' in page and 'id="xml-read-only"' not in page

    def test_it_refuses_a_viewer_the_migration_precheck(self):
        assert self.page(self.viewer, "instances:instance_migrate").status_code == 403
        assert api_for(self.viewer).get(f"/api/instances/{self.vm.pk}/migrate/").status_code == 403
        assert self.page(self.operator, "instances:instance_migrate").status_code == 200


@pytest.fixture
def wizard_vm(make_host):
    make_host("wizard")
    return Instance.objects.get(name="existing")


def clone_as(user, vm, name):
    response = api_for(user).post(f"/api/instances/{vm.pk}/clone/", {"name": name, "pool": "images"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    clone_instance_task.run(job.pk, **job.params)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return Instance.objects.get(pk=job.result["instance"]), job


@pytest.mark.django_db(transaction=True)
def test_it_gives_an_operator_holding_only_the_vm_grant_their_clone(wizard_vm, django_user_model):
    operator = django_user_model.objects.create_user("op", "op@example.org", "x")
    Grant.objects.create(user=operator, role=Role.OPERATOR, instance=wizard_vm, edit=True, console=True)

    clone, job = clone_as(operator, wizard_vm, "copy")

    grant = Grant.objects.get(user=operator, instance=clone)
    assert (grant.role, grant.edit, grant.console, grant.lifecycle, grant.migrate) == ("operator", True, True,
                                                                                      False, False)
    assert client_for(operator).get(clone.get_absolute_url()).status_code == 200
    assert any("may now see" in entry["message"] for entry in job.log), job.log


@pytest.mark.django_db(transaction=True)
def test_it_adds_no_grant_when_the_clone_is_visible_already(wizard_vm, django_user_model):
    operator = django_user_model.objects.create_user("op", "op@example.org", "x")
    Grant.objects.create(user=operator, role=Role.OPERATOR, host=wizard_vm.host, **dict.fromkeys(CAPABILITIES, True))

    clone, _job = clone_as(operator, wizard_vm, "copy")

    assert not Grant.objects.filter(instance=clone).exists()
    assert client_for(operator).get(clone.get_absolute_url()).status_code == 200
