"""Host pages and /api/hosts/ through the standard generic-view tests (core/testing), one filter set for both."""
import pytest
from django.urls import reverse

from core.models import Job
from core.testing.api import APIActionTests, APIViewSetTests
from core.testing.views import ActionViewTests, DeleteViewTests, DetailViewTests, ListViewTests
from hosts.models import Host

pytestmark = pytest.mark.django_db
ALL = {"small", "rack", "empty"}
FILTERS = [
    ({"state": "up"}, {"small", "rack"}),
    ({"state": "unreachable"}, {"empty"}),
    ({"state": ["up", "unreachable"]}, ALL),
    ({"search": "RACK 7"}, {"rack"}),  # description, any case
    ({"search": "empty.xml"}, {"empty"}),  # URI
    ({"search": "  "}, ALL),
    ({"search": "rack", "state": "unreachable"}, set()),
]


@pytest.fixture
def hosts(make_host):
    """Made out of name order: a list that forgets to order shows them as made."""
    small = make_host("small")
    rack = make_host("small", host_name="rack", description="rack 7")
    empty = make_host("empty")
    Host.objects.filter(pk=empty.pk).update(state=Host.State.UNREACHABLE, latency_ms=None)
    return [small, rack, empty]


class TestHostList(ListViewTests):
    url_name = "hosts:host_list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, hosts):
        return hosts

    def test_it_lists_hosts_by_name_unless_asked_otherwise(self, admin_client, objects):
        assert self.names(self.get(admin_client)) == ["empty", "rack", "small"]


class TestHostDetail(DetailViewTests):
    url_name = "hosts:host_detail"

    @pytest.fixture
    def obj(self, make_host):
        return make_host("small")

    def test_it_offers_refresh_as_a_post_button(self, admin_client, obj):
        page = admin_client.get(reverse(self.url_name, args=[obj.pk])).content.decode()
        assert f'<form method="post" action="/hosts/{obj.pk}/refresh/">' in page and 'data-action="refresh"' in page


class TestHostRefresh(ActionViewTests):
    url_name = "hosts:host_refresh"

    @pytest.fixture
    def obj(self, make_host):
        return make_host("small")

    def assert_done(self, obj, response):
        job = Job.objects.get()
        assert (job.kind, job.target_id, job.host) == ("refresh_host", str(obj.pk), obj)
        assert job.params == {"host_id": obj.pk}
        assert response["Location"] == obj.get_absolute_url()


class TestHostDelete(DeleteViewTests):
    url_name = "hosts:host_delete"

    @pytest.fixture
    def obj(self, make_host):
        return make_host("small")


class TestHostAPI(APIViewSetTests):
    list_url_name = "api-hosts:host-list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, hosts):
        return hosts

    def test_it_lists_hosts_by_name_unless_asked_otherwise(self, api, objects):
        assert self.names(self.get(api)) == ["empty", "rack", "small"]

    def test_it_searches_metacharacters_literally_up_to_200_characters(self, api, objects):
        assert self.names(self.get(api, search="%")) == [] and self.names(self.get(api, search="_")) == []
        assert self.get(api, search="%_" * 100)["count"] == 0
        response = api.get(reverse(self.list_url_name), {"search": "x" * 201})
        assert response.status_code == 400 and "search" in response.json()


class TestHostRefreshAPI(APIActionTests):
    url_name = "api-hosts:host-refresh"

    @pytest.fixture
    def obj(self, make_host):
        return make_host("small")

    def assert_done(self, obj, response):
        job = Job.objects.get(pk=response.json()["id"])
        assert (job.kind, job.target_id, job.params) == ("refresh_host", str(obj.pk), {"host_id": obj.pk})
