"""What the dashboard shows, from the database only (never libvirt): one aggregate query per part,
so its cost does not grow with the number of VMs beyond the counts themselves; only what the user may see."""
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from core.models import Job
from core.permissions import is_admin, restrict
from hosts.models import Host
from instances.choices import InstanceState
from instances.models import Instance
from storage.models import StoragePool

RECENT_FAILURES = timedelta(days=1)
# The host columns the dashboard shows (Host.display_state reads last_sync): not the capabilities XML and facts
# each host row carries (a quarter of the page's time at 200 hosts), nor the credentials.
HOST_FIELDS = ("name", "state", "last_error", "last_sync", "cpu_percent", "memory_total_kib", "memory_free_kib")


def hosts(user):
    """Every host `user` may see, with its instance counts (as hosts.querysets.with_instance_counts: vm_count,
    running_count, paused_count, shutoff_count) and its pools' storage use (storage_capacity, storage_allocation).

    The counts come from one GROUP BY over the (host, state) index alone, not from a join of every VM row to
    its host grouped by all the host's columns, as SQLite groups (bench/fleet.py measures both databases)."""
    visible = restrict(Host.objects.all(), user)
    storage = {row["host"]: row for row in restrict(StoragePool.objects.all(), user).values("host").annotate(
        capacity=Sum("capacity"), allocation=Sum("allocation"))}
    vms = Instance.objects.all() if is_admin(user) else Instance.objects.filter(host__in=visible.values("pk"))
    counts = {}
    for host_id, state, n in vms.values_list("host_id", "state").annotate(n=Count("*")).order_by():
        counts.setdefault(host_id, {})[state] = n
    rows = list(visible.only(*HOST_FIELDS))
    for host in rows:
        by_state = counts.get(host.pk, {})
        host.vm_count = sum(by_state.values())
        host.running_count = by_state.get(InstanceState.RUNNING, 0)
        host.paused_count = by_state.get(InstanceState.PAUSED, 0)
        host.shutoff_count = by_state.get(InstanceState.SHUTOFF, 0)
        use = storage.get(host.pk, {})
        host.storage_capacity = use.get("capacity") or 0
        host.storage_allocation = use.get("allocation") or 0
        host.storage_used_percent = (round(100 * host.storage_allocation / host.storage_capacity, 1)
                                     if host.storage_capacity else None)
    return rows


def instance_summary(user):
    """(totals, states) of the VMs `user` may see: totals {total, running, vcpus, memory} (vCPUs and memory of
    the running ones), states [(state, label, count)] for the states some VM is in, in InstanceState's order.

    One GROUP BY state, read from the index instance_state_totals alone (no table rows)."""
    rows = {row["state"]: row for row in restrict(Instance.objects.all(), user).values("state").annotate(
        n=Count("*"), vcpus=Sum("vcpus"), memory=Sum("memory_kib")).order_by()}
    running = rows.get(InstanceState.RUNNING, {})
    totals = {"total": sum(row["n"] for row in rows.values()), "running": running.get("n", 0),
              "vcpus": running.get("vcpus"), "memory": running.get("memory")}
    states = [(state, label, rows[state]["n"]) for state, label in InstanceState.choices if state in rows]
    return totals, states


def active_jobs(user):
    return restrict(Job.objects.all(), user).filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).select_related("user")[:20]


def recent_failures(user, now=None):
    since = (now or timezone.now()) - RECENT_FAILURES
    return restrict(Job.objects.all(), user).filter(status=Job.Status.FAILED, created__gte=since).select_related("user")[:10]
