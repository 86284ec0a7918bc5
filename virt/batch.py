"""One function on many domains of a host in a single pool call: a bulk action's share of one host.

A pool call costs a thread and the connection's turn; a bulk action over 50 VMs of a host made 50 of them.
`each` makes one, and still answers per domain: a domain's own failure (wrong state, gone) is its result and
the next one goes on; a failure of the host (the connection broke) ends the call, as any pool call does.
"""
import libvirt

from .domain import Domain
from .errors import HostUnreachable, VirtError, translate


def each(conn, keys, fn):
    """fn(Domain) for the domain of each key (UUID or name), in order: [(result, None) or (None, VirtError)].

    Raises the libvirtError of a host failure (translated to HostUnreachable) so the pool marks the host dead.
    """
    outcomes = []
    for key in keys:
        try:
            outcomes.append((fn(Domain.lookup(conn, key)), None))
        except libvirt.libvirtError as exc:
            error = translate(exc)
            if isinstance(error, HostUnreachable) or not conn.isAlive():
                raise
            outcomes.append((None, error))
        except VirtError as exc:  # virtdeck's own refusal (Domain.check)
            outcomes.append((None, exc))
    return outcomes
