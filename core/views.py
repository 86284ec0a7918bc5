from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from hosts.models import Host
from hosts.querysets import with_instance_counts, without_secrets
from instances.choices import InstanceState
from instances.models import Instance

from . import jobs
from .filters import JobFilterSet
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


class JobListView(FilterView):
    model = Job
    filterset_class = JobFilterSet
    template_name = "core/job_list.html"
    paginate_by = 50

    def get_queryset(self):
        return without_secrets(Job.objects.select_related("user", "host"), prefix="host__")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = Host.objects.only("id", "name")  # the host filter's choices
        return context


class JobDetailView(DetailView):
    model = Job
    template_name = "core/job_detail.html"


@require_POST
def job_cancel(request, pk):
    job = get_object_or_404(Job, pk=pk)
    if jobs.request_cancel(job):
        messages.info(request, f"Cancel requested for {job}.")
    else:
        messages.warning(request, f"{job} has already finished.")
    return redirect(job.get_absolute_url())
