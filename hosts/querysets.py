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
