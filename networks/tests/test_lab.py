"""Networks through virtdeck's API on the real lab libvirtd, checked with `ip`, `iptables` and libvirt directly."""
import random
import uuid

import libvirt
import pytest

from core.testing import ip_forward_kept
from networks.models import Network
from virt.networks import delete_network_if_present
from virt.tests.test_lab_networks import dnsmasq_for, iptables_rules, link

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


@pytest.fixture
def lab_host(lab, make_host):
    host = make_host("lab", uri=lab["uri"])
    direct = libvirt.open(lab["uri"])
    names = []
    with ip_forward_kept():
        yield host, direct, names
        for name in names:
            delete_network_if_present(direct, name)
    direct.close()


def test_it_creates_stops_and_deletes_a_nat_network_through_the_api(api, lab_host):
    host, direct, names = lab_host
    name, net, bridge = f"vd-test-{uuid.uuid4().hex[:8]}", f"10.214.{random.randint(1, 254)}", f"vdn{uuid.uuid4().hex[:6]}"
    names.append(name)
    response = api.post("/api/networks/", {"host": host.pk, "name": name, "mode": "nat", "bridge": bridge,
                                           "ipv4_address": f"{net}.1", "ipv4_prefix": 24,
                                           "dhcp_start": f"{net}.100", "dhcp_end": f"{net}.120"}, format="json")
    assert response.status_code == 201, response.content
    network_id = response.json()["id"]
    assert direct.networkLookupByName(name).isActive() == 1
    assert link(bridge) is not None and dnsmasq_for(name)
    assert f"-s {net}.0/24 ! -d {net}.0/24 -j MASQUERADE" in iptables_rules("nat")
    assert api.get(f"/api/networks/{network_id}/leases/").json() == []

    assert api.post(f"/api/networks/{network_id}/stop/").json()["active"] is False
    assert link(bridge) is None and not dnsmasq_for(name) and f"{net}.0/24" not in iptables_rules("nat")

    assert api.delete(f"/api/networks/{network_id}/").status_code == 204
    assert name not in [n.name() for n in direct.listAllNetworks(0)]
    assert not Network.objects.filter(pk=network_id).exists()


def test_it_refuses_a_subnet_overlapping_another_network_of_the_lab(api, lab_host):
    host, direct, names = lab_host
    # The lab's own `default` network (192.168.122.0/24, defined, not started).
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    response = api.post("/api/networks/", {"host": host.pk, "name": name, "mode": "isolated",
                                           "ipv4_address": "192.168.122.77", "ipv4_prefix": 25}, format="json")
    assert response.status_code == 400 and "overlaps network default" in response.json()["detail"]
    assert name not in [n.name() for n in direct.listAllNetworks(0)]
    assert not Network.objects.filter(name=name).exists()


@pytest.mark.parametrize("fields, words", [
    ({"mode": "macvtap", "forward_dev": "vdnope0"}, "forward_dev: local has no interface vdnope0"),
    ({"mode": "bridge", "bridge": "vdnope1"}, "bridge: local has no interface vdnope1"),
    ({"mode": "bridge", "bridge": "lo"}, "bridge: lo on local is not a bridge"),
])
def test_it_refuses_host_interfaces_that_do_not_exist_and_leaves_nothing(api, lab_host, make_host, fields, words):
    _lab, direct, names = lab_host
    host = make_host("local", uri="qemu:///system")  # a shell: virtdeck can see the host's interfaces
    name = f"vd-test-{uuid.uuid4().hex[:8]}"
    names.append(name)
    # libvirt itself would define and start these, and fail only when a guest attaches.
    response = api.post("/api/networks/", {"host": host.pk, "name": name, **fields}, format="json")
    assert response.status_code == 400 and words in response.json()["detail"], response.content
    assert name not in [n.name() for n in direct.listAllNetworks(0)]
    assert not Network.objects.filter(name=name).exists()
