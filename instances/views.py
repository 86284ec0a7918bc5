from core.generic import ObjectDetailView, ObjectListView, is_htmx
from core.permissions import restrict
from hosts.models import Host
from hosts.querysets import for_rows

from . import lifecycle, lifecycle_views, services, totals
from .actions import ACTIONS, BULK
from .choices import InstanceState
from .filters import InstanceFilterSet
from .models import Instance


class InstanceListView(ObjectListView):
    """Reads the inventory only: never calls libvirt."""

    queryset = for_rows(Instance.objects.select_related("host"))
    filterset_class = InstanceFilterSet
    paginate_by = 100
    extra_context = {"live_topics": "instance"}  # its rows change only with VM events (core/events.py)

    def known_count(self):
        return totals.known_count(self.request.user, self.filterset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = restrict(Host.objects.only("id", "name", "state"), self.request.user)
        context["states"] = InstanceState.choices
        context["bulk_actions"] = BULK.values()
        return context


class InstanceDetailView(ObjectDetailView):
    queryset = Instance.objects.select_related("host")
    object_actions = ACTIONS

    def get_object(self, queryset=None):
        instance = super().get_object(queryset)
        # Whether a shut-off VM has a saved state (restore rather than start): read live, except on re-fetches.
        return lifecycle.note_saved_state(instance, live=not is_htmx(self.request))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # htmx live re-fetches (on every websocket event) only swap the state badge: DB only, no libvirt.
        context["details"] = None if is_htmx(self.request) else services.read_details(self.object)
        context.update(lifecycle_views.detail_context(self.object))
        context["live_topics"] = f"instance:{self.object.pk}"  # its own events and its jobs' (core/events.py)
        return context
