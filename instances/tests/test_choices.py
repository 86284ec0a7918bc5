"""Instance states: libvirt's domain states as slugs, stored, filtered and shown with their labels."""
import libvirt
import pytest
from django.urls import reverse

from instances.choices import LEGACY_STATES, InstanceState
from instances.models import Instance
from virt import inventory as virt_inventory

LIST = "/api/instances/"


def test_it_has_one_state_for_each_libvirt_domain_state():
    codes = [getattr(libvirt, f"VIR_DOMAIN_{name}") for name in
             ("NOSTATE", "RUNNING", "BLOCKED", "PAUSED", "SHUTDOWN", "SHUTOFF", "CRASHED", "PMSUSPENDED")]
    assert sorted(virt_inventory.STATE_NAMES) == sorted(codes)
    assert set(virt_inventory.STATE_NAMES.values()) == set(InstanceState.values)
    assert virt_inventory.ACTIVE_STATES < set(InstanceState.values)
    assert virt_inventory.state_name(99) == InstanceState.NOSTATE  # a state newer than this libvirt-python
    assert set(LEGACY_STATES.values()) <= set(InstanceState.values)


@pytest.mark.django_db
def test_it_stores_slugs_and_shows_labels(admin_client, make_host):
    host = make_host("small")
    assert dict(Instance.objects.filter(host=host).values_list("name", "state")) == {
        "web1": "running", "db1": "shutoff", "cache1": "paused"}
    page = admin_client.get(reverse("instances:instance_list")).content.decode()
    assert 'data-state="shutoff"' in page and ">shut off</span>" in page
    assert '<option value="shutoff">shut off</option>' in page
    db1 = Instance.objects.get(name="db1")
    assert db1.get_state_display() == "shut off" and not db1.is_active
    assert ">shut off</span>" in admin_client.get(db1.get_absolute_url()).content.decode()
    assert ">shut off</span>" in admin_client.get(host.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_it_filters_the_api_by_slug_and_by_the_old_spelling(api, make_host):
    make_host("small")
    assert [r["name"] for r in api.get(LIST, {"state": "shutoff"}).json()["results"]] == ["db1"]
    assert [r["name"] for r in api.get(LIST, {"state": "shut off"}).json()["results"]] == ["db1"]
    both = api.get(LIST, {"state": ["shut off", "paused"]}).json()["results"]
    assert sorted(r["name"] for r in both) == ["cache1", "db1"]
    assert api.get(LIST, {"state": "shut"}).status_code == 400
    assert next(r for r in api.get(LIST).json()["results"] if r["name"] == "db1")["state"] == "shutoff"
