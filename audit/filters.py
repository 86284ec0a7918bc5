import django_filters
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.sorting import SortFilter

from .models import AuditEntry


class AuditFilterSet(django_filters.FilterSet):
    """One filter set for the audit page, /api/audit/ and its exports."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    username = django_filters.CharFilter(label=_("User"), max_length=150)
    source = django_filters.MultipleChoiceFilter(choices=AuditEntry.Source.choices, label=_("Source"))
    result = django_filters.MultipleChoiceFilter(choices=AuditEntry.Result.choices, label=_("Result"))
    action = django_filters.CharFilter(lookup_expr="icontains", max_length=120, label=_("Action"))
    target = django_filters.CharFilter(max_length=120, label=_("Target"))
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte", label=_("Since"))
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt", label=_("Until"))
    ordering = SortFilter(
        fields=(("time", "time"), ("username", "user"), ("address", "address"), ("action", "action"),
                ("target", "target"), ("result", "result"), ("job_id", "job"), ("params_text", "params")),
        computed={"params_text": Cast("params", TextField())},
    )

    class Meta:
        model = AuditEntry
        fields = ["username", "source", "result", "action", "target", "job_id"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(action__icontains=value) | Q(path__icontains=value) | Q(target__icontains=value)
                               | Q(username__icontains=value))
