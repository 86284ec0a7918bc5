import django_filters
from django.core.exceptions import ValidationError
from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast, NullIf
from django.utils.translation import gettext_lazy as _

from core.sorting import SortFilter

from .models import Host


class HostIdsField(django_filters.fields.ModelMultipleChoiceField):
    """Host ids; one past 64 bits is an invalid choice, not a database overflow."""

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue
            if not -(2**63) <= number < 2**63:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": pk})
        return super()._check_values(value)


class HostIdsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = HostIdsField


class HostFilterSet(django_filters.FilterSet):
    """One filter set for the host list page and /api/hosts/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    state = django_filters.MultipleChoiceFilter(choices=Host.State.choices, label=_("State"))
    ordering = SortFilter(
        fields=(("name", "name"), ("state", "state"), ("latency_ms", "latency_ms"), ("vm_count", "instances"),
                ("cpu_percent", "cpu"), ("memory_used", "memory")),
        # vm_count: with_instance_counts (hosts/querysets.py), which the list page and API both use.
        computed={"memory_used": Cast(F("memory_total_kib") - F("memory_free_kib"), FloatField())
                  / NullIf(F("memory_total_kib"), 0)},
    )

    class Meta:
        model = Host
        fields = ["state"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(uri__icontains=value) | Q(description__icontains=value))
