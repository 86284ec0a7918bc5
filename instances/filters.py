import django_filters
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.sorting import SortFilter
from hosts.filters import HostIdsFilter
from hosts.models import Host

from .choices import LEGACY_STATES, InstanceState
from .models import Instance, InstanceTemplate


class InstanceStatesField(django_filters.fields.MultipleChoiceField):
    """State slugs; the old spellings (`shut off`) still accepted."""

    def to_python(self, value):
        return [LEGACY_STATES.get(state, state) for state in super().to_python(value)]


class InstanceStatesFilter(django_filters.MultipleChoiceFilter):
    field_class = InstanceStatesField


class InstanceFilterSet(django_filters.FilterSet):
    """One filter set for the list page and /api/instances/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    host = HostIdsFilter(queryset=Host.objects.all())
    state = InstanceStatesFilter(choices=InstanceState.choices)
    ordering = SortFilter(
        fields=(("name", "name"), ("host__name", "host"), ("state", "state"), ("vcpus", "vcpus"),
                ("memory_kib", "memory"), ("autostart", "autostart"), ("cpu_time_ns", "cpu_time"),
                ("updated_at", "updated")),
    )

    class Meta:
        model = Instance
        fields = ["host", "state", "autostart", "persistent"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(uuid__icontains=value))

    def narrows(self):
        """Whether a filter leaves some VMs out (an order does not): if not, the list holds every VM the user may
        see. Invalid filters count as narrowing (the list is then empty)."""
        if not self.is_bound:  # no query string at all
            return False
        if not self.is_valid():
            return True
        data = self.form.cleaned_data
        return bool(data["host"] or data["state"] or data["search"].strip()
                    or data["autostart"] is not None or data["persistent"] is not None)


class InstanceTemplateFilterSet(django_filters.FilterSet):
    """The creation wizard's templates: the list page and /api/templates/."""

    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"), max_length=200)
    ordering = SortFilter(fields=(("name", "name"), ("description", "description"), ("answers_text", "answers"),
                                  ("updated", "updated")),
                          computed={"answers_text": Cast("answers", TextField())})

    class Meta:
        model = InstanceTemplate
        fields = []
