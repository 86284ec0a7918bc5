"""Host list and dashboard: instances counted by state (running, paused, shut off) and in all."""
import pytest

pytestmark = pytest.mark.django_db

COUNTS = "1 running</span> · <span class=\"text-warning\" title=\"paused\">1 paused</span> · " \
         "<span class=\"text-body-secondary\" title=\"shut off\">1 shut off</span>"


@pytest.mark.parametrize("url", ["/hosts/", "/"])
def test_it_shows_counts_by_state(admin_client, make_host, url):
    make_host("small")  # web1 running, cache1 paused, db1 shut off
    response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert COUNTS in content and "(3 in all)" in content
    host = response.context["hosts"][0]
    assert (host.vm_count, host.running_count, host.paused_count, host.shutoff_count) == (3, 1, 1, 1)


def test_it_counts_the_same_way_in_the_api(api, make_host):
    host = make_host("small")
    body = api.get("/api/hosts/").json()["results"][0]
    assert body["id"] == host.pk and body["vm_count"] == 3 and body["running_count"] == 1
