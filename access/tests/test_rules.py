"""access/rules.py: roles and capabilities, and lists that stay one SQL query whatever the grants."""
from django.contrib.auth.models import Group

from access.models import CAPABILITIES, Grant, Role
from access.rules import is_admin, restrict
from core.testing.personas import PersonaTests
from instances.models import Instance


class TestRules(PersonaTests):
    def test_it_lists_visible_vms_in_one_query(self, django_assert_num_queries):
        group = Group.objects.create(name="ops")
        self.outsider.groups.add(group)
        Grant.objects.create(group=group, role=Role.VIEWER, host=self.host)
        Grant.objects.create(user=self.outsider, role=Role.OPERATOR, instance=self.vm, lifecycle=True)
        assert not is_admin(self.outsider)  # asked once per request, then remembered
        with django_assert_num_queries(1):
            names = sorted(vm.name for vm in restrict(Instance.objects.all(), self.outsider))
        assert names == sorted(self.host.instances.values_list("name", flat=True))

    def test_it_lets_a_viewer_look_and_not_act(self):
        Grant.objects.create(user=self.outsider, role=Role.VIEWER, instance=self.vm, lifecycle=True)
        client = self.client_for(self.outsider)
        page = client.get(self.vm.get_absolute_url())
        assert page.status_code == 200 and page.context["actions"] == []  # no buttons
        assert client.post(f"/instances/{self.vm.pk}/suspend/").status_code == 403
        assert self.api_for(self.outsider).post(f"/api/instances/{self.vm.pk}/suspend/").status_code == 403
        assert client.get(f"/instances/{self.vm.pk}/console/").status_code == 403
        self.vm.refresh_from_db()
        assert self.vm.state == "running"

    def test_it_allows_an_operator_only_the_ticked_actions(self):
        Grant.objects.create(user=self.outsider, role=Role.OPERATOR, instance=self.vm, lifecycle=True)
        api = self.api_for(self.outsider)
        assert api.post(f"/api/instances/{self.vm.pk}/console/", {"kind": "vnc"}, format="json").status_code == 403
        assert api.patch(f"/api/instances/{self.vm.pk}/", {"name": "renamed"}, format="json").status_code == 403
        assert api.post(f"/api/instances/{self.vm.pk}/suspend/").status_code == 200
        buttons = {bound.action.name for bound in self.client_for(self.outsider).get(
            self.vm.get_absolute_url()).context["actions"]}
        assert "suspend" in buttons and "delete" not in buttons

    def test_it_gives_a_host_grant_every_vm_on_the_host_but_no_host_change(self):
        Grant.objects.create(user=self.outsider, role=Role.OPERATOR, host=self.host,
                             **dict.fromkeys(CAPABILITIES, True))
        api = self.api_for(self.outsider)
        assert api.get(f"/api/hosts/{self.host.pk}/").status_code == 200
        assert api.post(f"/api/instances/{self.other_vm.pk}/start/").status_code in (200, 202)
        assert api.post(f"/api/hosts/{self.host.pk}/refresh/").status_code == 403
        assert api.delete(f"/api/hosts/{self.host.pk}/").status_code == 403
        assert api.post("/api/hosts/", {"name": "x", "uri": "test:///default"}, format="json").status_code == 403

    def test_it_refuses_a_disabled_user_everything(self):
        self.operator.is_active = False
        assert not restrict(Instance.objects.all(), self.operator).exists()

    def test_it_closes_an_open_console_once_its_grant_is_withdrawn(self):
        from console.services import still_allowed

        assert still_allowed(self.operator, None, self.vm)
        Grant.objects.filter(user=self.operator).update(console=False)
        assert not still_allowed(self.operator, None, self.vm)
        assert not still_allowed(self.operator, None, self.other_vm)
        assert still_allowed(self.admin, None, self.other_vm)

    def test_it_keeps_host_shell_pages_for_admins_even_to_read(self):
        Grant.objects.create(user=self.outsider, role=Role.VIEWER, host=self.host)
        assert self.api_for(self.outsider).get(f"/api/hosts/{self.host.pk}/firewall/").status_code == 403
        assert self.client_for(self.outsider).get(f"/networks/hosts/{self.host.pk}/").status_code == 403
        assert self.client_for(self.outsider).get(f"/hosts/{self.host.pk}/").status_code == 200
