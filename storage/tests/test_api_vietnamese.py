"""virt/'s messages in the API answer in the request's language (Accept-Language), English by default."""
import pytest
from django.urls import reverse

from core.testing.i18n import compiled_catalogs, translated  # noqa: F401 - the fixtures
from hosts.connection import call

from .conftest import volume

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("translated")]
SHRINK = {
    "en": "thin.raw would shrink from 4294967296 to 1048576 bytes, losing the data past the new end; shrinking must "
          "be asked for explicitly.",
    "vi": "thin.raw sẽ bị thu nhỏ từ 4294967296 xuống 1048576 byte, mất dữ liệu nằm sau điểm kết thúc mới; thu nhỏ "
          "phải được yêu cầu rõ ràng.",
}


@pytest.mark.parametrize("headers, language", [({}, "en"), ({"HTTP_ACCEPT_LANGUAGE": "vi"}, "vi")])
def test_it_refuses_to_shrink_in_the_requests_language(api, storage_host, images, headers, language):
    thin = volume(images, "thin.raw")
    response = api.patch(reverse("api-storage:volume-detail", args=[thin.pk]), {"capacity": 2**20}, format="json",
                         **headers)
    assert response.status_code == 400
    assert response.json()["detail"] == SHRINK[language]
    assert call(storage_host, lambda conn: conn.storagePoolLookupByName("images").storageVolLookupByName(
        "thin.raw").info()[1]) == 4 * 2**30
