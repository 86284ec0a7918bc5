"""The Access pages (users, groups, grants): admins only; the same rules as the API."""
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from access.models import Grant
from core.testing import PASSWORD
from core.testing.personas import PersonaTests

PAGES = ["access:user_list", "access:user_add", "access:group_list", "access:group_add", "access:grant_list",
         "access:grant_add"]


class TestAccessPages(PersonaTests):
    @pytest.mark.parametrize("name", PAGES)
    def test_it_shows_the_pages_to_admins_only(self, name):
        assert self.client_for(self.admin).get(reverse(name)).status_code == 200
        assert self.client_for(self.operator).get(reverse(name)).status_code == 403
        assert self.client_for(self.outsider).get(reverse(name)).status_code == 403

    def test_it_adds_a_user_and_refuses_a_weak_password_on_the_form(self):
        admin = self.client_for(self.admin)
        weak = admin.post(reverse("access:user_add"), {"username": "carol", "password": "123", "is_active": "on"})
        assert weak.status_code == 200 and weak.context["form"].errors["password"]
        response = admin.post(reverse("access:user_add"), {"username": "carol", "password": PASSWORD,
                                                           "is_active": "on"})
        assert response.status_code == 302 and get_user_model().objects.get(username="carol").check_password(PASSWORD)

    def test_it_adds_a_grant_and_lists_it(self):
        admin = self.client_for(self.admin)
        response = admin.post(reverse("access:grant_add"), {"user": self.outsider.pk, "role": "operator",
                                                            "instance": self.other_vm.pk, "console": "on"})
        assert response.status_code == 302
        grant = Grant.objects.get(user=self.outsider)
        assert grant.allowed_actions == ["console"]
        page = admin.get(reverse("access:grant_list")).content.decode()
        assert f'data-grant="{grant.pk}"' in page and self.other_vm.name in page

    def test_it_names_the_field_of_an_inconsistent_grant(self):
        response = self.client_for(self.admin).post(reverse("access:grant_add"), {
            "user": self.outsider.pk, "role": "operator"})
        assert response.status_code == 200 and response.context["form"].errors["host"]
        assert not Grant.objects.filter(user=self.outsider).exists()

    def test_it_keeps_an_admin_from_deleting_themselves(self):
        response = self.client_for(self.admin).post(reverse("access:user_delete", args=[self.admin.pk]),
                                                    {"name": "admin"})
        assert response.status_code == 200 and get_user_model().objects.filter(pk=self.admin.pk).exists()

    def test_it_shows_admins_the_access_link_and_others_their_activity(self):
        assert "Access" in self.client_for(self.admin).get("/").content.decode()
        page = self.client_for(self.operator).get("/").content.decode()
        assert reverse("access:grant_list") not in page and "My activity" in page
