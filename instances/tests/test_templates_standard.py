"""The templates page and /api/templates/ through the standard generic tests (core/testing), one filter set."""
import pytest

from core.testing.api import APIViewSetTests
from core.testing.views import DeleteViewTests, ListViewTests
from instances.models import InstanceTemplate

FILTERS = [({"search": "DEB"}, {"debian-small"}), ({"search": "x"}, set())]


@pytest.fixture
def templates(db):
    return [InstanceTemplate.objects.create(name="debian-small", answers={"os_variant": "debian11"}),
            InstanceTemplate.objects.create(name="win-big", answers={"os_variant": "win10", "memory_mib": 4096})]


class TestTemplateList(ListViewTests):
    url_name = "instances:instancetemplate_list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, templates):
        return templates


class TestTemplateDelete(DeleteViewTests):
    url_name = "instances:instancetemplate_delete"

    @pytest.fixture
    def obj(self, templates):
        return templates[0]


class TestTemplateAPI(APIViewSetTests):
    list_url_name = "api-templates:instancetemplate-list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, templates):
        return templates
