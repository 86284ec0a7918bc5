"""virt/'s messages in the API answer in the request's language (Accept-Language), English by default."""
import pytest

from core.testing.i18n import compiled_catalogs, translated  # noqa: F401 - the fixtures
from hosts.models import Host

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("translated")]


@pytest.mark.parametrize("headers, words", [
    ({}, "Unsupported URI scheme 'ftp'. Use one of: "),
    ({"HTTP_ACCEPT_LANGUAGE": "vi"}, "Scheme URI 'ftp' không được hỗ trợ. Hãy dùng một trong: "),
])
def test_it_refuses_a_bad_uri_in_the_requests_language(api, headers, words):
    response = api.post("/api/hosts/", {"name": "kvm1", "uri": "ftp://kvm1/system"}, format="json", **headers)
    assert response.status_code == 400
    assert response.json()["uri"][0].startswith(words), response.json()
    assert not Host.objects.exists()
