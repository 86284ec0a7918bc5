"""XML from the host that does not parse: the page and the API say so instead of answering 500."""
import pytest

from instances import services
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_xml(make_host, monkeypatch):
    make_host("small")
    monkeypatch.setattr(services, "call", lambda host, fn, timeout=None: "<domain type='kvm'><name>web1</name>")
    return Instance.objects.get(name="web1")


def test_it_shows_a_parse_error_as_the_details_error(admin_client, broken_xml):
    response = admin_client.get(broken_xml.get_absolute_url())
    assert response.status_code == 200
    details = response.context["details"]
    assert details["summary"] is None and details["error"]
    assert b"Live configuration unavailable" in response.content


def test_it_reports_a_parse_error_through_the_api(api, broken_xml):
    response = api.get(f"/api/instances/{broken_xml.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["details"] is None and body["details_error"]
