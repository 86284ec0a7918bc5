"""virt.inventory.collect_some: several domains re-read in a constant number of RPCs (after a bulk action)."""
import libvirt

from core.testing import fleet_node_xml
from virt import inventory
from virt.tests.counting import Counting


def test_it_reads_the_domains_asked_for_as_collect_does_in_three_rpcs(tmp_path):
    node = tmp_path / "fleet.xml"
    node.write_text(fleet_node_xml(40))
    conn = libvirt.open(f"test://{node}")
    try:
        everything = {r["uuid"]: r for r in inventory.collect(conn)}
        wanted = sorted(everything)[3:30]
        known = {uuid: everything[uuid] for uuid in wanted}
        doms = [dom for dom in conn.listAllDomains(0) if dom.UUIDString() in known]  # as virt.batch.each has them
        counting = Counting(conn)
        some = inventory.collect_some(counting, doms, known)
        assert {r["uuid"]: r for r in some} == known
        assert counting.rpcs == 3, counting.counter
        gone = next(dom for dom in doms if not dom.isActive())
        gone.undefine()  # a domain gone meanwhile is left out
        assert {r["uuid"] for r in inventory.collect_some(conn, doms, known)} == set(known) - {gone.UUIDString()}
        assert inventory.collect_some(conn, [], {}) == []
    finally:
        conn.close()
