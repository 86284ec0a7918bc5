import django_filters

from hosts.models import Host

from .models import Job
from .sorting import SortFilter


class JobFilterSet(django_filters.FilterSet):
    """One filter set for the jobs page and /api/jobs/."""

    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices)
    kind = django_filters.CharFilter()
    host = django_filters.ModelChoiceFilter(queryset=Host.objects.all())
    target_kind = django_filters.ChoiceFilter(choices=Job.TargetKind.choices)
    target_id = django_filters.CharFilter()
    ordering = SortFilter(fields=(("id", "id"), ("kind", "kind"), ("target_name", "target"), ("status", "status"),
                                  ("progress", "progress"), ("user__username", "user"), ("created", "created")))

    class Meta:
        model = Job
        fields = ["status", "kind", "host", "target_kind", "target_id"]
