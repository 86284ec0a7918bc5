"""virt/'s messages in the API answer in the request's language (Accept-Language), English by default."""
import pytest

from core.testing.i18n import compiled_catalogs, translated  # noqa: F401 - the fixtures
from hosts.connection import call
from networks import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("translated")]
LIST = "/api/networks/"


@pytest.mark.parametrize("headers, detail", [
    ({}, "Expected a <network> document, got <domain>."),
    ({"HTTP_ACCEPT_LANGUAGE": "vi"}, "Cần một tài liệu <network>, nhận được <domain>."),
])
def test_it_refuses_bad_xml_in_the_requests_language(api, backend, headers, detail):
    services.stop_network(backend)
    before = call(backend.host, lambda conn: conn.networkLookupByName("backend").XMLDesc(0))
    response = api.put(f"{LIST}{backend.pk}/xml/", {"xml": "<domain><name>backend</name></domain>"},
                       format="json", **headers)
    assert response.status_code == 400
    assert response.json()["detail"] == detail
    assert call(backend.host, lambda conn: conn.networkLookupByName("backend").XMLDesc(0)) == before


@pytest.mark.parametrize("headers, detail", [
    ({}, "Network backend is not running: it has no leases."),
    ({"HTTP_ACCEPT_LANGUAGE": "vi,en;q=0.5"}, "Network backend không chạy: nó không có lease nào."),
])
def test_it_answers_a_409_in_the_requests_language(api, backend, headers, detail):
    services.stop_network(backend)
    response = api.get(f"{LIST}{backend.pk}/leases/", **headers)
    assert response.status_code == 409
    assert response.json() == {"detail": detail, "error": "OperationInvalid"}
