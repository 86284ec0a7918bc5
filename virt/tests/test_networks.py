"""virt/networks.py against libvirt's test driver, through the pool as services call it; results read back
through libvirt directly."""
import libvirt
import pytest

from virt import networks
from virt.connection import ConnectionSpec, Pool
from virt.errors import InvalidConfig, NotFound, OperationInvalid
from virt.tests.counting import Counting
from virt.xml.network import build_network

DEFAULT_NET = """<network><name>default</name><forward mode='nat'/><bridge name='virbr0'/>
<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/>
</dhcp></ip></network>"""


def _node(tmp_path, count=1):
    extra = "".join(f"<network><name>iso{i}</name><bridge name='vdiso{i}'/>"
                    f"<ip address='10.77.{i}.1' prefix='24'/></network>" for i in range(count - 1))
    path = tmp_path / f"networks-{count}.xml"
    path.write_text(f"<node>{DEFAULT_NET}{extra}</node>")
    return f"test://{path}"


@pytest.fixture
def pool():
    p = Pool(call_timeout=10.0)
    yield p
    p.close_all()


@pytest.fixture
def uri(tmp_path):
    return _node(tmp_path)


@pytest.fixture
def host(pool, uri):
    spec = ConnectionSpec(key="networks", uri=uri)
    return lambda fn: pool.call(spec, fn)


@pytest.mark.parametrize("count", [1, 5, 20])
def test_it_reads_networks_with_four_plus_one_rpc_per_network(tmp_path, count):
    conn = libvirt.open(_node(tmp_path, count))
    try:
        counting = Counting(conn)
        records = networks.collect_networks(counting)
        assert len(records) == count
        assert counting.rpcs == 4 + count, counting.counter
    finally:
        conn.close()


def test_it_describes_the_default_nat_network(host):
    record, = host(networks.collect_networks)
    assert (record.name, record.mode, record.bridge, record.ipv4) == ("default", "nat", "virbr0", "192.168.122.1/24")
    assert record.dhcp_ranges == ["192.168.122.2-192.168.122.254"]
    assert record.active and record.persistent


def test_it_defines_starts_and_autostarts_a_network_read_back_from_libvirt(host, uri):
    xml = build_network("lab-nat", "nat", bridge="vdnat0", ipv4_address="10.213.9.1", ipv4_prefix=24,
                        dhcp_start="10.213.9.100", dhcp_end="10.213.9.150")
    record = host(lambda conn: networks.define_network(conn, xml, start=True, autostart=True))
    assert record.active and record.autostart and record.mode == "nat"
    # The test driver keeps its state per connection: read back on the pool's own connection, directly.
    net = host(lambda conn: conn.networkLookupByName("lab-nat"))
    assert host(lambda conn: (net.isActive(), net.autostart())) == (1, 1)
    assert "10.213.9.100" in host(lambda conn: net.XMLDesc(0))


def test_it_refuses_a_name_in_use_and_an_overlapping_subnet_defining_nothing(host):
    with pytest.raises(InvalidConfig, match="already exists"):
        host(lambda conn: networks.define_network(conn, build_network("default", "isolated")))
    overlapping = build_network("other", "nat", ipv4_address="192.168.122.129", ipv4_prefix=25)
    with pytest.raises(InvalidConfig, match="overlaps network default"):
        host(lambda conn: networks.define_network(conn, overlapping))
    assert host(lambda conn: sorted(n.name() for n in conn.listAllNetworks(0))) == ["default"]


def test_it_stops_starts_toggles_autostart_and_deletes(host):
    assert not host(lambda conn: networks.stop_network(conn, "default")).active
    assert host(lambda conn: networks.start_network(conn, "default")).active
    assert host(lambda conn: networks.set_network_autostart(conn, "default", True)).autostart
    assert not host(lambda conn: networks.set_network_autostart(conn, "default", False)).autostart
    host(lambda conn: networks.delete_network(conn, "default"))
    assert host(lambda conn: networks.collect_network(conn, "default")) is None
    with pytest.raises(NotFound):
        host(lambda conn: networks.start_network(conn, "default"))


def test_it_redefines_from_user_xml_keeping_name_and_uuid(host):
    current = host(lambda conn: networks.inactive_xml(conn, "default"))
    changed = current.replace("192.168.122.254", "192.168.122.200")
    host(lambda conn: networks.stop_network(conn, "default"))  # running: see the lab test (next start)
    record = host(lambda conn: networks.redefine_network(conn, "default", changed))
    assert record.dhcp_ranges == ["192.168.122.2-192.168.122.200"]
    assert "192.168.122.200" in host(lambda conn: conn.networkLookupByName("default").XMLDesc(0))
    with pytest.raises(InvalidConfig, match="renaming"):
        host(lambda conn: networks.redefine_network(conn, "default", current.replace(">default<", ">other<")))
    with pytest.raises(InvalidConfig, match="DOCTYPE"):
        host(lambda conn: networks.redefine_network(
            conn, "default", '<!DOCTYPE n [<!ENTITY x "y">]><network><name>default</name></network>'))


def test_it_refuses_leases_of_a_stopped_network(host):
    host(lambda conn: networks.stop_network(conn, "default"))
    with pytest.raises(OperationInvalid, match="not running"):
        host(lambda conn: networks.leases(conn, "default"))
