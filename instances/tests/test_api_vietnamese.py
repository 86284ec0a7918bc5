"""virt/'s messages in the API answer in the request's language (Accept-Language), English by default."""
import pytest

from core.testing.i18n import compiled_catalogs, translated  # noqa: F401 - the fixtures
from hosts.connection import call
from instances.models import Instance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("translated")]


@pytest.fixture
def host(make_host):
    return make_host("hardware")


@pytest.mark.parametrize("headers, detail", [
    ({}, "boot: each device may appear once."),
    ({"HTTP_ACCEPT_LANGUAGE": "vi"}, "boot: mỗi thiết bị chỉ được xuất hiện một lần."),
])
def test_it_refuses_a_bad_value_in_the_requests_language(api, host, headers, detail):
    db1 = Instance.objects.get(host=host, name="db1")
    before = call(host, lambda conn: conn.lookupByName("db1").XMLDesc(0))
    response = api.patch(f"/api/instances/{db1.pk}/config/", {"boot": ["hd", "hd"]}, format="json", **headers)
    assert response.status_code == 400
    assert response.json()["detail"] == detail and response.json()["boot"] == [detail]
    assert call(host, lambda conn: conn.lookupByName("db1").XMLDesc(0)) == before


@pytest.mark.parametrize("headers, detail", [
    ({}, "Cannot start a VM that is running."),
    ({"HTTP_ACCEPT_LANGUAGE": "en"}, "Cannot start a VM that is running."),
    ({"HTTP_ACCEPT_LANGUAGE": "vi-VN,vi;q=0.9"}, "Không thể khởi động một VM khi nó đang chạy."),
])
def test_it_refuses_an_action_the_state_forbids_in_the_requests_language(api, host, headers, detail):
    web1 = Instance.objects.get(host=host, name="web1")
    Instance.objects.filter(pk=web1.pk).update(state="shutoff")  # the row lags: virt/ finds the VM running
    response = api.post(f"/api/instances/{web1.pk}/start/", **headers)
    assert response.status_code == 409
    assert response.json() == {"detail": detail, "error": "OperationInvalid"}
    assert call(host, lambda conn: conn.lookupByName("web1").isActive()) == 1
