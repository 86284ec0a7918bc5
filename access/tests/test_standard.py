"""The users, groups and grants pages through the standard list tests (core/testing): every column sorts."""
import pytest
from django.contrib.auth.models import Group

from access.models import Grant
from core.testing.views import ListViewTests
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    """bob (no group), carol and dave in ops (dave disabled), an empty devs group."""
    ops = Group.objects.create(name="ops")
    Group.objects.create(name="devs")
    bob = django_user_model.objects.create_user("bob", "zz-bob@example.org")
    carol = django_user_model.objects.create_user("carol", "carol@example.org")
    dave = django_user_model.objects.create_user("dave", "dave@example.org", is_active=False)
    ops.user_set.add(carol, dave)
    return bob, carol, ops


class TestUserList(ListViewTests):
    url_name = "access:user_list"
    filters = [({"search": "carol"}, {"carol"}), ({"is_active": "false"}, {"dave"})]

    @pytest.fixture
    def objects(self, people):
        return people[:2]

    def test_it_links_every_column_header_to_its_sort(self, admin_client, objects):
        page = self.get(admin_client).content.decode()
        for key in ("username", "email", "groups", "status", "last_login"):
            assert f"ordering={key}" in page, key


class TestGroupList(ListViewTests):
    url_name = "access:group_list"
    filters = [({"search": "OP"}, {"ops"})]

    @pytest.fixture
    def objects(self, people):
        return list(Group.objects.all())

    def test_it_sorts_by_the_number_of_members(self, admin_client, objects):
        assert self.names(self.get(admin_client, ordering="-members")) == ["ops", "devs"]


class TestGrantList(ListViewTests):
    url_name = "access:grant_list"

    @pytest.fixture
    def objects(self, people, make_host):
        bob, carol, ops = people
        host = make_host("small")
        vm = Instance.objects.filter(host=host).order_by("name").first()
        grants = [Grant.objects.create(user=bob, role="admin"),
                  Grant.objects.create(group=ops, role="operator", host=host, console=True, lifecycle=True),
                  Grant.objects.create(user=carol, role="viewer", instance=vm)]
        self.filters = [({"role": "viewer"}, {str(grants[2])}), ({"group": ops.pk}, {str(grants[1])})]
        return grants

    def test_it_sorts_by_how_many_actions_a_grant_allows(self, admin_client, objects):
        admin, operator, viewer = objects
        assert self.names(self.get(admin_client, ordering="actions")) == [str(viewer), str(operator), str(admin)]
