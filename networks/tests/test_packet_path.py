"""The packet path: hops per mode from sample host state (pure), the trace filter, and the API on the test driver."""
import pytest

from networks.hostnet import Interface, parse_iptables_save
from networks.models import Network
from networks.packet_path import build_path
from networks.tracing import TraceFilter, capture_argv
from virt.errors import InvalidConfig
from virt.xml.devices import InterfaceXML

FIREWALL = parse_iptables_save("""*filter
:FORWARD ACCEPT [0:0]
:LIBVIRT_FWI - [0:0]
:LIBVIRT_FWO - [0:0]
:LIBVIRT_FWX - [0:0]
[5:300] -A FORWARD -j LIBVIRT_FWX
[5:300] -A FORWARD -j LIBVIRT_FWI
[5:300] -A FORWARD -j LIBVIRT_FWO
[0:0] -A LIBVIRT_FWX -i virbr1 -o virbr1 -j ACCEPT
[2:168] -A LIBVIRT_FWI -d 10.1.0.0/24 -o virbr1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[2:168] -A LIBVIRT_FWO -s 10.1.0.0/24 -i virbr1 -j ACCEPT
[0:0] -A LIBVIRT_FWO -s 10.9.0.0/24 -i virbr9 -j ACCEPT
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
:LIBVIRT_PRT - [0:0]
[9:540] -A POSTROUTING -j LIBVIRT_PRT
[2:168] -A LIBVIRT_PRT -s 10.1.0.0/24 ! -d 10.1.0.0/24 -j MASQUERADE
[0:0] -A LIBVIRT_PRT -s 10.9.0.0/24 ! -d 10.9.0.0/24 -j MASQUERADE
COMMIT
""")
INTERFACES = [Interface("eth0", "UP", "ether", "52:54:00:00:00:01", 1500, ""),
              Interface("br0", "UP", "bridge", "52:54:00:00:00:02", 1500, ""),
              Interface("eth1", "UP", "ether", "52:54:00:00:00:03", 1500, "br0"),
              Interface("vnet3", "UNKNOWN", "tun", "fe:54:00:00:00:04", 1500, "br0")]


def nic(kind="network", **attrs):
    element = InterfaceXML()
    element.type, element.mac, element.model, element.target_dev = kind, "52:54:00:aa:00:01", "virtio", "vnet3"
    for key, value in attrs.items():
        setattr(element, key, value)
    return element


def network(mode, **fields):
    return Network(name="n", mode=mode, bridge=fields.pop("bridge", "virbr1"), ipv4=fields.pop("ipv4", "10.1.0.1/24"),
                   **fields)


def test_it_walks_a_nat_packet_through_forward_and_masquerade_to_the_uplink():
    hops = build_path(nic(), network("nat"), INTERFACES, FIREWALL, "eth0")
    assert [(h.kind, h.name) for h in hops] == [("guest", "52:54:00:aa:00:01"), ("tap", "vnet3"), ("bridge", "virbr1"),
                                                ("firewall", "filter FORWARD"), ("firewall", "nat POSTROUTING"),
                                                ("uplink", "eth0")]
    forward, nat = hops[3].rules, hops[4].rules
    assert [(r["chain"], r["packets"]) for r in forward] == [("FORWARD", 5), ("FORWARD", 5), ("FORWARD", 5),
                                                             ("LIBVIRT_FWX", 0), ("LIBVIRT_FWI", 2), ("LIBVIRT_FWO", 2)]
    assert all("10.9.0.0" not in r["spec"] for r in forward + nat)  # another network's rules are left out
    assert [r["spec"] for r in nat][-1] == "-s 10.1.0.0/24 ! -d 10.1.0.0/24 -j MASQUERADE"
    assert [h.interface for h in hops if h.interface] == ["vnet3", "virbr1", "eth0"]


def test_it_stops_an_isolated_packet_at_the_bridge():
    hops = build_path(nic(), network("isolated"), INTERFACES, FIREWALL, "eth0")
    assert [h.kind for h in hops] == ["guest", "tap", "bridge", "firewall"]
    assert not any(h.kind == "uplink" for h in hops)


def test_it_skips_libvirt_rules_for_an_open_network():
    hops = build_path(nic(), network("open"), INTERFACES, FIREWALL, "eth0")
    assert [h.kind for h in hops] == ["guest", "tap", "bridge", "uplink"]


def test_it_leaves_a_host_bridge_through_its_ports_not_the_taps():
    hops = build_path(nic(source_bridge="br0"), network("bridge", bridge="br0", ipv4=""), INTERFACES, FIREWALL, "")
    assert [(h.kind, h.interface) for h in hops] == [("guest", ""), ("tap", "vnet3"), ("bridge", "br0"),
                                                     ("uplink", "eth1")]


def test_it_sends_a_macvtap_packet_straight_to_the_host_nic():
    hops = build_path(nic("direct", source_dev="eth0", target_dev="macvtap0"), None, INTERFACES, FIREWALL, "")
    assert [(h.kind, h.interface) for h in hops] == [("guest", ""), ("macvtap", "macvtap0"), ("uplink", "eth0")]


def test_it_builds_tcpdump_filters_from_checked_words_only():
    assert TraceFilter().words() == []
    assert TraceFilter("udp", 67).words() == ["udp", "and", "port", "67"]
    assert TraceFilter("icmp", None, "10.0.0.2").words() == ["icmp", "and", "host", "10.0.0.2"]
    argv = capture_argv("virbr1", 5, TraceFilter("tcp", 22))
    assert argv[:6] == ["timeout", "--preserve-status", "-s", "INT", "5", "tcpdump"] and argv[-3:] == ["and", "port", "22"]


@pytest.mark.parametrize("kwargs, field", [
    ({"protocol": "icmp; rm -rf /"}, "protocol"), ({"protocol": "udp", "port": 0}, "port"),
    ({"protocol": "udp", "port": "67"}, "port"), ({"protocol": "icmp", "port": 7}, "port"),
    ({"address": "10.0.0.1 or port 22"}, "address"), ({"address": "-i eth0"}, "address"),
])
def test_it_refuses_filters_that_are_not_plain_values(kwargs, field):
    with pytest.raises(InvalidConfig, match=field):
        TraceFilter(**kwargs)


def test_it_refuses_interface_names_that_could_be_options():
    with pytest.raises(InvalidConfig):
        capture_argv("-w/etc/passwd", 5, TraceFilter())


@pytest.mark.django_db
def test_it_reads_the_path_from_the_xml_alone_without_a_shell(api, host):
    from instances.models import Instance

    web1 = Instance.objects.get(host=host, name="web1")
    body = api.get(f"/api/instances/{web1.pk}/nics/52:54:00:AA:BB:02/path/").json()
    assert "no shell" in body["note"]
    assert [hop["kind"] for hop in body["hops"]] == ["guest", "tap", "bridge", "firewall"]  # backend is isolated
    assert body["hops"][2]["name"] == "virbr1"
    assert api.get(f"/api/instances/{web1.pk}/nics/52:54:00:00:00:99/path/").status_code == 404
    assert api.get(f"/api/instances/{web1.pk}/nics/not-a-mac/path/").status_code == 400


@pytest.mark.django_db
def test_it_refuses_a_trace_on_a_host_without_a_shell_and_starts_no_job(api, host):
    from core.models import Job
    from instances.models import Instance

    web1 = Instance.objects.get(host=host, name="web1")
    response = api.post(f"/api/instances/{web1.pk}/nics/52:54:00:aa:bb:02/trace/", {"seconds": 2}, format="json")
    assert response.status_code == 400 and "without a shell" in response.json()["detail"]
    assert not Job.objects.exists()
    assert api.post(f"/api/instances/{web1.pk}/nics/52:54:00:aa:bb:02/trace/", {"seconds": 600},
                    format="json").status_code == 400


@pytest.mark.django_db
def test_it_shows_the_path_page_and_links_it_from_the_network(admin_client, host, backend):
    from django.urls import reverse

    from instances.models import Instance

    web1 = Instance.objects.get(host=host, name="web1")
    url = reverse("networks:nic_path", args=[web1.pk, "52:54:00:aa:bb:02"])
    assert url in admin_client.get(backend.get_absolute_url()).content.decode()
    page = admin_client.get(url).content.decode()
    assert 'id="hops"' in page and 'data-interface="virbr1"' in page
