"""/api/users/, /api/groups/, /api/grants/: admins manage them; a grant takes effect at once."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from access.models import Grant, Role
from core.testing import PASSWORD
from core.testing.personas import PersonaTests


class TestUsersGroupsGrants(PersonaTests):
    def test_it_creates_a_user_with_a_hashed_write_only_password(self):
        api = self.api_for(self.admin)
        response = api.post("/api/users/", {"username": "carol", "password": PASSWORD}, format="json")
        assert response.status_code == 201 and "password" not in response.json()
        carol = get_user_model().objects.get(username="carol")
        assert carol.check_password(PASSWORD) and PASSWORD not in carol.password

    def test_it_refuses_a_weak_password_naming_the_field(self):
        response = self.api_for(self.admin).post("/api/users/", {"username": "dave", "password": "123"}, format="json")
        assert response.status_code == 400 and "password" in response.json()
        assert not get_user_model().objects.filter(username="dave").exists()

    @pytest.mark.parametrize("body", [
        {"username": ""}, {"username": "x" * 200}, {"username": "bad name!"}, {"username": ["a"]},
        {"username": "eve", "groups": [999999]}, {"username": "eve", "is_active": "maybe"}])
    def test_it_refuses_malformed_users(self, body):
        count = get_user_model().objects.count()
        response = self.api_for(self.admin).post("/api/users/", body, format="json")
        assert response.status_code == 400 and set(response.json()) & set(body)
        assert get_user_model().objects.count() == count

    def test_it_refuses_deleting_ones_own_account(self):
        response = self.api_for(self.admin).delete(f"/api/users/{self.admin.pk}/")
        assert response.status_code == 400 and get_user_model().objects.filter(pk=self.admin.pk).exists()

    def test_it_manages_groups_and_their_members(self):
        api = self.api_for(self.admin)
        group = api.post("/api/groups/", {"name": "ops", "members": [self.outsider.pk]}, format="json").json()
        assert group["members"] == [self.outsider.pk]
        assert list(self.outsider.groups.values_list("name", flat=True)) == ["ops"]

    def test_it_grants_a_group_a_host_and_its_members_see_its_vms_at_once(self):
        api = self.api_for(self.admin)
        group = Group.objects.create(name="ops")
        self.outsider.groups.add(group)
        outsider = self.api_for(self.outsider)
        assert outsider.get("/api/instances/").json()["count"] == 0
        response = api.post("/api/grants/", {"group": group.pk, "role": "viewer", "host": self.host.pk,
                                             "lifecycle": True}, format="json")
        assert response.status_code == 201 and response.json()["allowed_actions"] == []  # a viewer only looks
        names = {row["name"] for row in outsider.get("/api/instances/").json()["results"]}
        assert names == set(self.host.instances.values_list("name", flat=True))
        assert outsider.post(f"/api/instances/{self.vm.pk}/suspend/").status_code == 403  # seen, not granted

    @pytest.mark.parametrize(("body", "field"), [
        ({"role": "operator", "host": "HOST"}, "user"),  # nobody
        ({"user": "USER", "group": "GROUP", "role": "viewer", "host": "HOST"}, "user"),  # both
        ({"user": "USER", "role": "operator"}, "host"),  # on nothing
        ({"user": "USER", "role": "operator", "host": "HOST", "instance": "VM"}, "host"),  # on both
        ({"user": "USER", "role": "admin", "host": "HOST"}, "role"),  # admin is everything already
        ({"user": "USER", "role": "root", "host": "HOST"}, "role"),
        ({"user": "USER", "role": "viewer", "host": 999999}, "host"),
    ])
    def test_it_refuses_inconsistent_grants_naming_the_field(self, body, field):
        group = Group.objects.create(name="g")
        values = {"USER": self.outsider.pk, "GROUP": group.pk, "HOST": self.host.pk, "VM": self.vm.pk}
        body = {key: values.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
        response = self.api_for(self.admin).post("/api/grants/", body, format="json")
        assert response.status_code == 400 and field in response.json(), response.json()
        assert Grant.objects.count() == 1  # the operator's own

    def test_it_makes_an_admin_of_a_grant_holder(self):
        Grant.objects.create(user=self.outsider, role=Role.ADMIN)
        assert self.api_for(self.outsider).get("/api/users/").json()["count"] == 3

    def test_it_keeps_users_groups_and_grants_from_everyone_else(self):
        for user in (self.operator, self.outsider):
            api = self.api_for(user)
            assert api.get("/api/users/").json()["count"] == 0
            assert api.get("/api/grants/").json()["count"] == 0
            assert api.post("/api/grants/", {"user": user.pk, "role": "admin"}, format="json").status_code == 403
            assert api.patch(f"/api/users/{user.pk}/", {"is_superuser": True}, format="json").status_code == 404
        assert not Grant.objects.filter(role=Role.ADMIN).exists()
        assert not get_user_model().objects.filter(is_superuser=True).exclude(pk=self.admin.pk).exists()
