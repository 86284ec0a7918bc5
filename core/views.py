from django.db.models import Count, Q, Sum
from django.views.generic import TemplateView

from hosts.models import Host
from hosts.querysets import with_instance_counts, without_secrets
from instances.choices import InstanceState
from instances.models import Instance

from .actions import JOB_ACTIONS
from .filters import JobFilterSet
from .generic import ObjectDetailView, ObjectListView
from .jobs import commands_for
from .models import Job


class DashboardView(TemplateView):
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        hosts = with_instance_counts(without_secrets(Host.objects.all()))
        totals = Instance.objects.aggregate(
            total=Count("id"),
            running=Count("id", filter=Q(state=InstanceState.RUNNING)),
            vcpus=Sum("vcpus", filter=Q(state=InstanceState.RUNNING)),
            memory=Sum("memory_kib", filter=Q(state=InstanceState.RUNNING)),
        )
        context.update(
            hosts=hosts,
            hosts_up=sum(1 for h in hosts if h.display_state == Host.State.UP),
            totals=totals,
            recent_jobs=Job.objects.select_related("user")[:8],
        )
        return context


class HealthBannerView(TemplateView):
    """The degraded banner alone: base.html polls it, so an open page shows a component going down."""

    template_name = "core/_health_banner.html"


class JobListView(ObjectListView):
    queryset = without_secrets(Job.objects.select_related("user", "host"), prefix="host__")
    filterset_class = JobFilterSet

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = Host.objects.only("id", "name")  # the host filter's choices
        return context


class JobDetailView(ObjectDetailView):
    model = Job
    object_actions = JOB_ACTIONS

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "commands": commands_for(self.object)}
