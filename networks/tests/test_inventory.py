"""Network rows from the host sync, one network after an action, and rows newer than a listing."""
import pytest
from django.utils import timezone

from hosts.sync import sync_host
from networks import inventory
from networks.models import Network
from virt.networks import NetworkRecord

pytestmark = pytest.mark.django_db


def test_it_stores_every_network_of_the_host_at_sync(host):
    rows = {n.name: n for n in Network.objects.filter(host=host)}
    assert set(rows) == {"default", "backend", "lan", "direct"}
    assert (rows["default"].mode, rows["default"].bridge, rows["default"].ipv4) == ("nat", "virbr0", "192.168.122.1/24")
    assert rows["default"].dhcp_ranges == ["192.168.122.2-192.168.122.254"]
    assert (rows["direct"].mode, rows["direct"].macvtap_mode, rows["direct"].uplinks) == ("macvtap", "vepa", ["eth1"])
    assert rows["lan"].mode == "bridge" and rows["backend"].mode == "isolated"


def test_it_deletes_rows_of_networks_gone_and_keeps_rows_written_after_the_listing(host):
    started = timezone.now()
    fresh = Network.objects.get(host=host, name="lan")
    Network.objects.filter(pk=fresh.pk).update(active=False, updated_at=timezone.now())
    kept = NetworkRecord(uuid=str(Network.objects.get(host=host, name="default").uuid), name="default", mode="nat",
                         active=False, autostart=False, persistent=True, bridge="virbr0")
    inventory.apply_records(host, [kept], sync_started=started)
    assert set(Network.objects.filter(host=host).values_list("name", flat=True)) == {"default", "lan"}
    assert not Network.objects.get(host=host, name="default").active
    assert not Network.objects.get(host=host, name="lan").active  # newer than the listing: untouched


def test_it_replaces_a_row_when_a_network_is_recreated_under_its_name(host):
    old = Network.objects.get(host=host, name="backend")
    record = NetworkRecord(uuid="bbbbbbbb-0000-4000-8000-000000000009", name="backend", mode="isolated",
                           active=True, autostart=False, persistent=True, bridge="virbr9")
    row = inventory.apply_record(host, "backend", record)
    assert row.pk != old.pk and not Network.objects.filter(pk=old.pk).exists()
    assert row.bridge == "virbr9"


def test_it_resyncs_without_changes_when_nothing_changed(host):
    before = list(Network.objects.filter(host=host).values("pk", "updated_at"))
    sync_host(host)
    assert list(Network.objects.filter(host=host).values("pk", "updated_at")) == before
