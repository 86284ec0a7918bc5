"""Each host's VM counts and sums by state (HostStateTotals), kept beside the VM rows for the admin's dashboard.

Every path that writes VM rows calls refresh() in its transaction for the hosts it touched, when the rows
appeared, went, moved or changed state, vCPUs or memory; refresh() recounts those hosts from the rows (one
indexed GROUP BY each, on instance_host_state_totals), so a count can only lag a write that did not call it,
until that host's next change.
"""
from django.db import connection, transaction
from django.db.models import Count, Sum

from core.permissions import is_admin
from hosts.models import Host

from .models import HostStateTotals, Instance

# The fields whose change moves a total.
FIELDS = ("state", "vcpus", "memory_kib")


def by_host_and_state(instances):
    """{(host id, state): {n, vcpus, memory}} of the Instance queryset `instances`: one GROUP BY, read from the
    index instance_host_state_totals alone."""
    rows = instances.values_list("host_id", "state").annotate(
        n=Count("*"), vcpus=Sum("vcpus"), memory=Sum("memory_kib")).order_by()
    return {(host_id, state): {"n": n, "vcpus": vcpus, "memory": memory} for host_id, state, n, vcpus, memory in rows}


def refresh(host_ids):
    """Recount the VMs of `host_ids` into their HostStateTotals rows."""
    host_ids = sorted(set(host_ids))
    if not host_ids:
        return
    # In the caller's transaction when there is one: its writes and these totals commit or fail together.
    with transaction.atomic(savepoint=False):
        # Two writers recounting one host (the sync and an event) take turns on the host row: the second one
        # counts after the first committed and writes last, so no count is lost nor inserted twice. (SQLite
        # lets one writer at a time anyway, and ignores FOR UPDATE: no query there.)
        if connection.features.has_select_for_update:
            list(Host.objects.select_for_update().filter(pk__in=host_ids).order_by("pk").values_list("pk", flat=True))
        counted = by_host_and_state(Instance.objects.filter(host_id__in=host_ids))
        HostStateTotals.objects.filter(host_id__in=host_ids).delete()
        HostStateTotals.objects.bulk_create(
            HostStateTotals(host_id=host_id, state=state, count=row["n"], vcpus=row["vcpus"] or 0,
                            memory_kib=row["memory"] or 0)
            for (host_id, state), row in counted.items())


def read():
    """by_host_and_state() of every VM, as kept."""
    return {(host_id, state): {"n": n, "vcpus": vcpus, "memory": memory} for host_id, state, n, vcpus, memory in
            HostStateTotals.objects.values_list("host_id", "state", "count", "vcpus", "memory_kib")}


def count():
    """How many VMs there are, all hosts together: the unfiltered list's row count for whom sees every VM."""
    return HostStateTotals.objects.aggregate(n=Sum("count"))["n"] or 0


def known_count(user, filterset):
    """count() when `user` sees every VM and `filterset` (an InstanceFilterSet) leaves none out, else None:
    what the instance list and /api/instances/ give their paginators instead of a COUNT of every row."""
    return count() if is_admin(user) and not filterset.narrows() else None
