import django_filters
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.permissions import VisibleChoices
from core.sorting import SortFilter
from hosts.models import Host
from hosts.filters import HostIdsField, HostIdsFilter
from instances.models import InstanceDisk

from .choices import POOL_TYPE_CHOICES, PoolState
from .models import StoragePool, Volume


class PoolIdsFilter(VisibleChoices, django_filters.ModelMultipleChoiceFilter):
    field_class = HostIdsField  # the same 64-bit guard, for pool ids


def _search(queryset, fields, value):
    value = value.strip()
    if not value:
        return queryset
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__icontains": value})
    return queryset.filter(query)


class PoolFilterSet(django_filters.FilterSet):
    """One filter set for the pool list pages and /api/storage/pools/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    host = HostIdsFilter(queryset=Host.objects.all(), label=_("Host"))
    type = django_filters.MultipleChoiceFilter(choices=POOL_TYPE_CHOICES, label=_("Type"))
    state = django_filters.MultipleChoiceFilter(choices=PoolState.choices, label=_("State"))
    ordering = SortFilter(
        fields=(("name", "name"), ("host__name", "host"), ("type", "type"), ("state", "state"),
                ("autostart", "autostart"), ("capacity", "capacity"), ("allocation", "allocation"),
                ("available", "available")),
    )

    class Meta:
        model = StoragePool
        fields = ["host", "type", "state", "autostart"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("name", "target_path", "source"), value)


class VolumeFilterSet(django_filters.FilterSet):
    """One filter set for the volume list pages and /api/storage/volumes/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    pool = PoolIdsFilter(queryset=StoragePool.objects.all(), label=_("Pool"))
    host = HostIdsFilter(field_name="pool__host", queryset=Host.objects.all(), label=_("Host"))
    format = django_filters.CharFilter(label=_("Format"), max_length=20)
    ordering = SortFilter(
        fields=(("name", "name"), ("pool__name", "pool"), ("format", "format"), ("capacity", "capacity"),
                ("allocation", "allocation"), ("backing_path", "backing"), ("user_count", "used_by")),
        # "Used by": how many VMs of the volume's host had a disk on its path at the last sync (unused first).
        computed={"user_count": Coalesce(Subquery(
            InstanceDisk.objects.filter(path=OuterRef("path"), instance__host=OuterRef("pool__host"))
            .order_by().values("path").annotate(n=Count("instance", distinct=True)).values("n")[:1]), Value(0))},
    )

    class Meta:
        model = Volume
        fields = ["pool", "host", "format"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("name", "path", "backing_path"), value)
