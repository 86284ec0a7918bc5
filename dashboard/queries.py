"""What the dashboard shows, from the database only (never libvirt): one aggregate query per part,
so its cost does not grow with the number of VMs beyond the counts themselves."""
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.models import Job
from hosts.models import Host
from hosts.querysets import with_instance_counts, without_secrets
from instances.choices import InstanceState
from instances.models import Instance
from storage.models import StoragePool

RECENT_FAILURES = timedelta(days=1)


def hosts():
    """Every host with its instance counts and its pools' storage use (storage_capacity, storage_allocation)."""
    storage = {row["host"]: row for row in StoragePool.objects.values("host").annotate(
        capacity=Sum("capacity"), allocation=Sum("allocation"))}
    rows = list(with_instance_counts(without_secrets(Host.objects.all())))
    for host in rows:
        use = storage.get(host.pk, {})
        host.storage_capacity = use.get("capacity") or 0
        host.storage_allocation = use.get("allocation") or 0
        host.storage_used_percent = (round(100 * host.storage_allocation / host.storage_capacity, 1)
                                     if host.storage_capacity else None)
    return rows


def instance_totals():
    return Instance.objects.aggregate(
        total=Count("id"),
        running=Count("id", filter=Q(state=InstanceState.RUNNING)),
        vcpus=Sum("vcpus", filter=Q(state=InstanceState.RUNNING)),
        memory=Sum("memory_kib", filter=Q(state=InstanceState.RUNNING)),
    )


def states():
    """[(state, label, count)] for the states some VM is in, in InstanceState's order."""
    counts = dict(Instance.objects.values_list("state").annotate(n=Count("id")).order_by())
    return [(state, label, counts[state]) for state, label in InstanceState.choices if counts.get(state)]


def active_jobs():
    return Job.objects.filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).select_related("user")[:20]


def recent_failures(now=None):
    since = (now or timezone.now()) - RECENT_FAILURES
    return Job.objects.filter(status=Job.Status.FAILED, created__gte=since).select_related("user")[:10]
