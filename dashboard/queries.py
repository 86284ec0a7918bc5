"""What the dashboard shows, from the database only (never libvirt): one aggregate query per part,
so its cost does not grow with the number of VMs beyond the counts themselves; only what the user may see."""
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from core.models import Job
from core.permissions import is_admin, restrict
from hosts.models import Host
from instances import totals as instance_totals
from instances.choices import InstanceState
from instances.models import Instance
from storage.models import StoragePool

RECENT_FAILURES = timedelta(days=1)
# The host columns the dashboard shows (Host.display_state reads last_sync): not the capabilities XML and facts
# each host row carries (a quarter of the page's time at 200 hosts), nor the credentials.
HOST_FIELDS = ("name", "state", "last_error", "last_sync", "cpu_percent", "memory_total_kib", "memory_free_kib")


def vm_totals(user):
    """{(host id, state): {n, vcpus, memory}} of the VMs `user` may see (the host rows' counts and the fleet's
    totals are both summed from it). An admin sees every VM: the hosts' kept totals (instances.totals), a few
    rows per host whatever their VMs. Others may see some VMs of a host and not the rest (access/rules.py):
    a GROUP BY over theirs."""
    if is_admin(user):
        return instance_totals.read()
    return instance_totals.by_host_and_state(restrict(Instance.objects.all(), user))


def hosts(user, totals):
    """Every host `user` may see, with its instance counts from vm_totals (as hosts.querysets.with_instance_counts:
    vm_count, running_count, paused_count, shutoff_count) and its pools' storage use (storage_capacity,
    storage_allocation). A host's VMs are all visible to whom may see the host (access/rules.py), so the counts
    are the host's."""
    visible = restrict(Host.objects.all(), user)
    storage = {row["host"]: row for row in restrict(StoragePool.objects.all(), user).values("host").annotate(
        capacity=Sum("capacity"), allocation=Sum("allocation"))}
    counts = {}
    for (host_id, state), row in totals.items():
        counts.setdefault(host_id, {})[state] = row["n"]
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


def instance_summary(totals):
    """(totals, states) of vm_totals: totals {total, running, vcpus, memory} (vCPUs and memory of the running
    ones), states [(state, label, count)] for the states some VM is in, in InstanceState's order."""
    by_state = {}
    for (_host_id, state), row in totals.items():
        summed = by_state.setdefault(state, {"n": 0, "vcpus": 0, "memory": 0})
        for key in summed:
            summed[key] += row[key] or 0
    running = by_state.get(InstanceState.RUNNING, {})
    summary = {"total": sum(row["n"] for row in by_state.values()), "running": running.get("n", 0),
               "vcpus": running.get("vcpus"), "memory": running.get("memory")}
    states = [(state, label, by_state[state]["n"]) for state, label in InstanceState.choices if state in by_state]
    return summary, states


def active_jobs(user):
    return restrict(Job.objects.all(), user).filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).select_related("user")[:20]


def recent_failures(user, now=None):
    since = (now or timezone.now()) - RECENT_FAILURES
    return restrict(Job.objects.all(), user).filter(status=Job.Status.FAILED, created__gte=since).select_related("user")[:10]
