"""Instance pages and /api/instances/ through the standard generic-view tests (core/testing), one filter set."""
import pytest

from core.testing.api import APIViewSetTests
from core.testing.views import DetailViewTests, ListViewTests
from instances.models import Instance

pytestmark = pytest.mark.django_db
FILTERS = [
    ({"state": "paused"}, {"cache1"}),
    ({"state": ["running", "shut off"]}, {"web1", "db1"}),
    ({"search": "WEB"}, {"web1"}),
    ({"search": "33333333-3333"}, {"cache1"}),  # UUID
    ({"search": "web", "state": "paused"}, set()),
]


@pytest.fixture
def instances(make_host):
    make_host("small")
    return list(Instance.objects.all())


class TestInstanceList(ListViewTests):
    url_name = "instances:instance_list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, instances):
        return instances


class TestInstanceDetail(DetailViewTests):
    url_name = "instances:instance_detail"

    @pytest.fixture
    def obj(self, instances):
        return instances[0]


class TestInstanceAPI(APIViewSetTests):
    list_url_name = "api-instances:instance-list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, instances):
        return instances

    def test_it_sorts_by_host_name_not_host_id(self, api, make_host):
        make_host("small", host_name="zeta")  # the lower id
        make_host("small", host_name="alpha")
        rows = self.get(api, ordering="host", limit=1000)["results"]
        assert [row["host_name"] for row in rows] == ["alpha"] * 3 + ["zeta"] * 3
