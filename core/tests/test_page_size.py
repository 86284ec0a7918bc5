"""List pages: the rows per page a user picks (25 to 1,000) are remembered for that user."""
import pytest
from django.test import Client
from django.urls import reverse

from access.models import Grant, Role
from core.models import UserPreference
from hosts.models import Host

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosts():
    Host.objects.bulk_create([Host(name=f"h{number:03d}", uri="test:///default") for number in range(60)])


def shown(client, **params):
    response = client.get(reverse("hosts:host_list"), params)
    assert response.status_code == 200
    return len(response.context["page_obj"]), response


def test_it_remembers_the_page_size_a_user_picks(admin_client, admin_user, member, hosts):
    assert shown(admin_client)[0] == 60  # the host list's default is 100
    rows, response = shown(admin_client, per_page=25)
    assert rows == 25 and 'id="page-sizes"' in response.content.decode()
    assert shown(admin_client)[0] == 25  # next visit, no parameter: the choice stands
    assert shown(admin_client, per_page=50)[0] == 50 and shown(admin_client)[0] == 50
    Grant.objects.create(user=member, role=Role.ADMIN)  # a second admin: sees the same 60 hosts
    other = Client()
    other.force_login(member)
    assert shown(other)[0] == 60  # another user's choice is theirs alone
    assert UserPreference.objects.get(user=admin_user).page_size == 50


@pytest.mark.parametrize("value", ["abc", "-5", "0", "1.5", ""])
def test_it_ignores_page_sizes_that_are_not_one(admin_client, admin_user, hosts, value):
    assert shown(admin_client, per_page=value)[0] == 60
    assert not UserPreference.objects.filter(user=admin_user).exists()


def test_it_caps_the_page_size_at_a_thousand(admin_client, admin_user, hosts):
    shown(admin_client, per_page=10**6)
    assert UserPreference.objects.get(user=admin_user).page_size == 1000


def test_it_offers_the_sizes_as_links_keeping_the_filters(admin_client, hosts):
    body = shown(admin_client, search="h0", per_page=25)[1].content.decode()
    assert "?search=h0&amp;per_page=100" in body
