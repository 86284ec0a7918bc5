from django.views.generic import TemplateView

from hosts.models import Host

from . import queries

# The websocket topics the dashboard listens to (core/events.py): every host, VM, job and pool change.
LIVE_TOPICS = "host instance job storage"


class DashboardView(TemplateView):
    template_name = "dashboard/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        vm_totals = queries.vm_totals(user)
        hosts = queries.hosts(user, vm_totals)
        totals, states = queries.instance_summary(vm_totals)
        context.update(
            hosts=hosts,
            hosts_up=sum(1 for h in hosts if h.display_state == Host.State.UP),
            hosts_down=sum(1 for h in hosts if h.state == Host.State.UNREACHABLE),
            totals=totals,
            states=states,
            active_jobs=queries.active_jobs(user),
            failures=queries.recent_failures(user),
            live_topics=LIVE_TOPICS,
        )
        return context
