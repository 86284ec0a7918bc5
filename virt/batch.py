"""One function on many domains of a host in a single pool call: a bulk action's share of one host.

A pool call costs a thread and the connection's turn; a bulk action over 50 VMs of a host made 50 of them.
`each` makes one, and still answers per domain: a domain's own failure (wrong state, gone) is its result and
the next one goes on; a failure of the host (the connection broke) ends the call, as any pool call does.
The domains are found in one listing of the host, not with a lookup RPC each: for 50 VMs that is 51 RPCs
rather than 100 (bench/instances.py). The listing is no extra cost beside the action: the re-read after it
(virt.inventory.collect_some) takes the domains found here instead of listing the host itself.
"""
import uuid as uuidlib

import libvirt

from .domain import Domain
from .errors import HostUnreachable, NotFound, VirtError, translate


def each(conn, uuids, fn):
    """fn(Domain) for the domain of each UUID (any spelling), in order: [(virDomain, result, None) or
    (virDomain or None when there is no such domain, None, VirtError)].

    Raises the libvirtError of a host failure (translated to HostUnreachable) so the pool marks the host dead.
    """
    listed = {dom.UUIDString(): dom for dom in conn.listAllDomains(0)}
    outcomes = []
    for key in uuids:
        dom = listed.get(str(uuidlib.UUID(str(key))))
        if dom is None:  # in libvirt's words, as a lookup would have said it
            outcomes.append((None, None, NotFound(f"Domain not found: no domain with matching uuid '{key}'")))
            continue
        try:
            outcomes.append((dom, fn(Domain(dom)), None))
        except libvirt.libvirtError as exc:
            error = translate(exc)
            if isinstance(error, HostUnreachable) or not conn.isAlive():
                raise
            outcomes.append((dom, None, error))
        except VirtError as exc:  # virtdeck's own refusal (Domain.check)
            outcomes.append((dom, None, exc))
    return outcomes
