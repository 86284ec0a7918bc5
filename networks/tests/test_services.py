"""networks/services.py on libvirt's test driver; every change read back through libvirt directly."""
import pytest

from hosts.connection import call
from networks import services
from networks.models import Network
from virt.errors import InvalidConfig, OperationInvalid

pytestmark = pytest.mark.django_db


def libvirt_network(host, name):
    """(active, autostart, XML) read straight from libvirt on the host's connection (the test driver's state
    lives in that connection)."""
    def read(conn):
        network = conn.networkLookupByName(name)
        return bool(network.isActive()), bool(network.autostart()), network.XMLDesc(0)
    return call(host, read)


def test_it_creates_a_nat_network_row_and_libvirt_agree(host):
    row = services.create_network(host, name="lab", mode="nat", ipv4_address="10.213.5.1", ipv4_prefix=24,
                                  dhcp_start="10.213.5.10", dhcp_end="10.213.5.99", autostart=True,
                                  static_hosts=[{"mac": "52:54:00:00:00:07", "ip": "10.213.5.7", "name": "db"}])
    assert (row.mode, row.active, row.autostart, row.static_hosts) == ("nat", True, True, 1)
    active, autostart, xml = libvirt_network(host, "lab")
    assert active and autostart
    assert "<forward mode='nat'" in xml and "10.213.5.99" in xml and "52:54:00:00:00:07" in xml


def test_it_previews_without_defining(host):
    xml = services.preview_network(name="lab", mode="isolated", ipv4_address="10.9.9.1", ipv4_prefix=24)
    assert "<name>lab</name>" in xml
    assert "lab" not in call(host, lambda conn: [n.name() for n in conn.listAllNetworks(0)])


@pytest.mark.parametrize("fields, field", [
    ({"name": "a/b", "mode": "isolated"}, "network name"),
    ({"name": "x", "mode": "nat", "ipv4_address": "192.168.122.200", "ipv4_prefix": 24}, "overlaps network default"),
    ({"name": "backend", "mode": "isolated"}, "already exists"),
    ({"name": "x", "mode": "nat", "ipv4_address": "10.1.0.1", "ipv4_prefix": 24, "dhcp_start": "10.2.0.1",
      "dhcp_end": "10.2.0.9"}, "dhcp_start"),
])
def test_it_refuses_bad_input_and_changes_nothing(host, fields, field):
    before = call(host, lambda conn: sorted(n.name() for n in conn.listAllNetworks(0)))
    rows = Network.objects.count()
    with pytest.raises(InvalidConfig, match=field):
        services.create_network(host, **fields)
    assert call(host, lambda conn: sorted(n.name() for n in conn.listAllNetworks(0))) == before
    assert Network.objects.count() == rows


def test_it_stops_starts_and_toggles_autostart(backend):
    assert not services.stop_network(backend).active
    assert libvirt_network(backend.host, "backend")[0] is False
    assert services.start_network(backend).active
    assert services.set_autostart(backend, True).autostart
    assert libvirt_network(backend.host, "backend")[1] is True
    assert not services.set_autostart(backend, False).autostart


def test_it_deletes_the_network_and_its_row(backend):
    services.delete_network(backend)
    assert not Network.objects.filter(pk=backend.pk).exists()
    assert "backend" not in call(backend.host, lambda conn: [n.name() for n in conn.listAllNetworks(0)])


def test_it_lists_the_vms_attached_live(backend):
    found = services.attached(backend)
    assert [(a.name, a.mac, a.active) for a in found] == [("db1", "52:54:00:aa:bb:03", False),
                                                          ("web1", "52:54:00:aa:bb:02", True)]


def test_it_edits_the_xml_with_a_diff_and_refuses_a_rename(backend):
    services.stop_network(backend)
    xml = services.read_xml(backend)
    row, diff = services.update_xml(backend, xml.replace("10.50.0.1", "10.51.0.1"))
    assert row.ipv4 == "10.51.0.1/24"
    assert "-  <ip address='10.50.0.1'" in diff and "+  <ip address='10.51.0.1'" in diff
    with pytest.raises(InvalidConfig, match="renaming"):
        services.update_xml(backend, xml.replace("<name>backend</name>", "<name>other</name>"))
    assert "10.51.0.1" in libvirt_network(backend.host, "backend")[2]


def test_it_refuses_leases_of_a_stopped_network(backend):
    services.stop_network(backend)
    with pytest.raises(OperationInvalid):
        services.leases(backend)
