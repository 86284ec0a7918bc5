"""The instance page's live state region: re-fetched on every websocket event, from the DB only."""
import pytest

from instances import services
from instances.models import Instance

pytestmark = pytest.mark.django_db


def test_it_answers_live_refetches_without_calling_libvirt(admin_client, make_host, monkeypatch):
    make_host("small")
    vm = Instance.objects.get(name="cache1")

    def no_libvirt(*args, **kwargs):
        raise AssertionError("a live re-fetch called libvirt")

    monkeypatch.setattr(services, "call", no_libvirt)
    response = admin_client.get(vm.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["details"] is None
    content = response.content.decode()
    badge = content[content.index('id="instance-state"'):]
    assert "paused" in badge[:badge.index("</span></h1>")]
    assert "Live configuration unavailable" not in content


def test_it_still_reads_the_live_configuration_on_a_full_page_load(admin_client, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    response = admin_client.get(vm.get_absolute_url())
    assert response.context["details"]["summary"]["name"] == "web1"
