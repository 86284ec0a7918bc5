"""What the dashboard shows, from the database only (never libvirt): one aggregate query per part,
so its cost does not grow with the number of VMs beyond the counts themselves; only what the user may see."""
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.models import Job
from core.permissions import restrict
from hosts.models import Host
from hosts.querysets import with_instance_counts, without_secrets
from instances.choices import InstanceState
from instances.models import Instance
from storage.models import StoragePool

RECENT_FAILURES = timedelta(days=1)


def hosts(user):
    """Every host `user` may see, with its instance counts and its pools' storage use (storage_capacity, storage_allocation)."""
    storage = {row["host"]: row for row in restrict(StoragePool.objects.all(), user).values("host").annotate(
        capacity=Sum("capacity"), allocation=Sum("allocation"))}
    rows = list(with_instance_counts(without_secrets(restrict(Host.objects.all(), user))))
    for host in rows:
        use = storage.get(host.pk, {})
        host.storage_capacity = use.get("capacity") or 0
        host.storage_allocation = use.get("allocation") or 0
        host.storage_used_percent = (round(100 * host.storage_allocation / host.storage_capacity, 1)
                                     if host.storage_capacity else None)
    return rows


def instance_totals(user):
    return restrict(Instance.objects.all(), user).aggregate(
        total=Count("id"),
        running=Count("id", filter=Q(state=InstanceState.RUNNING)),
        vcpus=Sum("vcpus", filter=Q(state=InstanceState.RUNNING)),
        memory=Sum("memory_kib", filter=Q(state=InstanceState.RUNNING)),
    )


def states(user):
    """[(state, label, count)] for the states some VM is in, in InstanceState's order."""
    counts = dict(restrict(Instance.objects.all(), user).values_list("state").annotate(n=Count("id")).order_by())
    return [(state, label, counts[state]) for state, label in InstanceState.choices if counts.get(state)]


def active_jobs(user):
    return restrict(Job.objects.all(), user).filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).select_related("user")[:20]


def recent_failures(user, now=None):
    since = (now or timezone.now()) - RECENT_FAILURES
    return restrict(Job.objects.all(), user).filter(status=Job.Status.FAILED, created__gte=since).select_related("user")[:10]
