"""Host querysets shared by the host list, the dashboard and the API (one copy of each annotation)."""
from django.db.models import Count, Q

from instances.choices import InstanceState

from .models import Host


def with_instance_counts(queryset):
    """Annotate vm_count and running / paused / shut off counts of each host's instances."""
    return queryset.annotate(
        vm_count=Count("instances"),
        running_count=Count("instances", filter=Q(instances__state=InstanceState.RUNNING)),
        paused_count=Count("instances", filter=Q(instances__state=InstanceState.PAUSED)),
        shutoff_count=Count("instances", filter=Q(instances__state=InstanceState.SHUTOFF)),
    )


def without_secrets(queryset, prefix=""):
    """Defer the encrypted credentials (prefix "host__" for a queryset of instances with their host)."""
    return queryset.defer(*(prefix + field for field in Host.SECRET_FIELDS))


# What a row of another list (VMs, jobs) shows of its host is its name and state: not its facts nor its
# capabilities XML, tens of KiB a host that PostgreSQL sent and psycopg decoded once per row (100 times a page).
LIST_DEFERRED = ("facts", "capabilities_xml")


def for_rows(queryset, prefix="host__"):
    """without_secrets, and the host's facts and capabilities deferred too: for lists of objects with their host."""
    return without_secrets(queryset, prefix).defer(*(prefix + field for field in LIST_DEFERRED))
