"""Instance list and page: filters, search, sort, paging, all from the inventory."""
import pytest
from django.urls import reverse

from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(make_host):
    return make_host("fleet")


def names(response):
    return [vm.name for vm in response.context["page_obj"]]


def test_it_lists_every_vm_of_every_host(admin_client, make_host, fleet):
    small = make_host("small")
    response = admin_client.get(reverse("instances:instance_list"))
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 63
    assert b"web1" in response.content and small.name.encode() in response.content


def test_it_filters_by_host_state_and_search(admin_client, make_host, fleet):
    small = make_host("small")
    url = reverse("instances:instance_list")
    assert names(admin_client.get(url, {"host": small.pk})) == ["cache1", "db1", "web1"]
    assert names(admin_client.get(url, {"host": small.pk, "state": "paused"})) == ["cache1"]
    assert names(admin_client.get(url, {"search": "vm001"})) == [f"vm001{i}" for i in range(10)]
    running = admin_client.get(url, {"host": fleet.pk, "state": "running"}).context["page_obj"].paginator.count
    assert running == Instance.objects.filter(host=fleet, state="running").count() == 30


def test_it_sorts_both_ways_and_pages(admin_client, fleet):
    url = reverse("instances:instance_list")
    assert names(admin_client.get(url, {"ordering": "-name"}))[0] == "vm0059"
    by_memory = admin_client.get(url, {"ordering": "-memory"}).context["page_obj"]
    assert by_memory[0].memory_kib == 4 * 262144
    second = admin_client.get(url, {"ordering": "name", "page": 1})
    assert len(second.context["page_obj"]) == 60


def test_it_shows_an_empty_state_with_a_way_forward(admin_client):
    response = admin_client.get(reverse("instances:instance_list"))
    assert b"add a host" in response.content


def test_it_shows_one_instance_with_its_live_configuration(admin_client, make_host):
    make_host("small")
    vm = Instance.objects.get(name="web1")
    response = admin_client.get(vm.get_absolute_url())
    assert response.status_code == 200
    summary = response.context["details"]["summary"]
    assert summary["disks"][0]["source"] == "/var/lib/libvirt/images/web1.qcow2"
    assert summary["interfaces"][0]["mac"] == "52:54:00:aa:bb:01"
    assert b"vda" in response.content and b"Domain XML" in response.content


def test_it_shows_the_inventory_row_when_the_host_is_down(admin_client, make_host):
    from hosts.connection import reconnect
    from hosts.models import Host

    host = make_host("small")
    Host.objects.filter(pk=host.pk).update(uri="qemu+tcp://127.0.0.1:1/system")
    reconnect(host)
    vm = Instance.objects.get(name="web1")
    response = admin_client.get(vm.get_absolute_url())
    assert response.status_code == 200
    assert b"Live configuration unavailable" in response.content and b"Connection refused" in response.content


def test_it_never_calls_libvirt_for_the_list(admin_client, fleet, monkeypatch):
    from virt.connection import Pool

    def forbidden(*args, **kwargs):
        raise AssertionError("list page called libvirt")

    monkeypatch.setattr(Pool, "call", forbidden)  # every libvirt call of every module goes through it
    assert admin_client.get(reverse("instances:instance_list")).status_code == 200
    assert admin_client.get(reverse("hosts:host_list")).status_code == 200
    assert admin_client.get(reverse("dashboard:dashboard")).status_code == 200
