from django.views.generic import TemplateView

from hosts.models import Host
from hosts.querysets import for_rows

from .actions import JOB_ACTIONS
from .filters import JobFilterSet
from .generic import ObjectDetailView, ObjectListView
from .jobs import commands_for
from .models import Job
from .permissions import restrict


class HealthBannerView(TemplateView):
    """The degraded banner alone: base.html polls it, so an open page shows a component going down."""

    template_name = "core/_health_banner.html"


class JobListView(ObjectListView):
    queryset = for_rows(Job.objects.select_related("user", "host"))
    filterset_class = JobFilterSet
    extra_context = {"live_topics": "job"}  # core/events.py

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = restrict(Host.objects.only("id", "name"), self.request.user)  # the host filter's choices
        return context


class JobDetailView(ObjectDetailView):
    model = Job
    object_actions = JOB_ACTIONS

    def get_context_data(self, **kwargs):
        # Its own events only (core/events.py); the page re-reads itself once its websocket is open while the job
        # may still change (templates/core/job_detail.html): an end before that sent its event to nobody.
        return {**super().get_context_data(**kwargs), "commands": commands_for(self.object),
                "live_topics": f"job:{self.object.pk}"}
