"""virt/batch.each on libvirt's test driver (small node: web1 runs, db1 is shut off, cache1 is paused)."""
import libvirt
import pytest

from core.testing import node_uri
from virt.batch import each
from virt.connection import ConnectionSpec, Pool
from virt.errors import NotFound, OperationInvalid
from virt.tests.counting import Counting

WEB1, DB1, CACHE1 = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                     "33333333-3333-4333-8333-333333333333")
MISSING = "99999999-9999-4999-8999-999999999999"


@pytest.fixture
def run():
    pool = Pool(call_timeout=10, connect_timeout=5)
    spec = ConnectionSpec(key="batch-tests", uri=node_uri("small"))
    yield lambda fn: pool.call(spec, fn)
    pool.close_all()


def test_it_answers_for_each_domain_and_goes_on_after_a_failure(run):
    def force_off(dom):
        return dom.explained("destroy", lambda d: d.destroy())

    outcomes = run(lambda conn: each(conn, [WEB1, MISSING, DB1, CACHE1], force_off))

    assert [error is None for _dom, _result, error in outcomes] == [True, False, False, True]
    assert outcomes[1][0] is None and isinstance(outcomes[1][2], NotFound)
    assert outcomes[1][2].message == f"Domain not found: no domain with matching uuid '{MISSING}'"
    assert isinstance(outcomes[2][2], OperationInvalid)
    assert outcomes[2][2].message == "Cannot destroy a VM that is shut off."
    assert [dom.UUIDString() for dom, _result, error in outcomes if error is None] == [WEB1, CACHE1]
    states = run(lambda conn: [conn.lookupByUUIDString(u).state()[0] for u in (WEB1, DB1, CACHE1)])
    assert states == [libvirt.VIR_DOMAIN_SHUTOFF] * 3  # libvirt's own answer: all three are off


def test_it_finds_the_domains_in_one_listing_not_one_lookup_each(run):
    def force_off(dom):
        return dom.explained("destroy", lambda d: d.destroy())

    def counted(conn):
        counting = Counting(conn)
        outcomes = each(counting, [WEB1.upper(), CACHE1], force_off)  # any spelling of a UUID
        return counting.counter, outcomes

    counter, outcomes = run(counted)
    assert dict(counter) == {"listAllDomains": 1, "destroyFlags": 2}  # a bare loop: 2 lookups, 2 destroys
    assert [error for _dom, _result, error in outcomes] == [None, None]
