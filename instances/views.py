from django.views.generic import DetailView
from django_filters.views import FilterView

from hosts.models import Host
from hosts.querysets import without_secrets

from . import services
from .choices import InstanceState
from .filters import InstanceFilterSet
from .models import Instance


class InstanceListView(FilterView):
    """Reads the inventory only: never calls libvirt."""

    filterset_class = InstanceFilterSet
    template_name = "instances/instance_list.html"
    paginate_by = 100

    def get_queryset(self):
        return without_secrets(Instance.objects.select_related("host"), prefix="host__")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = Host.objects.only("id", "name", "state")
        context["states"] = InstanceState.choices
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        query.pop("ordering", None)
        context["query_without_ordering"] = query.urlencode()
        context["ordering"] = self.request.GET.get("ordering", "")
        return context


class InstanceDetailView(DetailView):
    template_name = "instances/instance_detail.html"

    def get_queryset(self):
        return Instance.objects.select_related("host")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # htmx live re-fetches (on every websocket event) only swap the state badge: DB only, no libvirt.
        live = self.request.headers.get("HX-Request") == "true"
        context["details"] = None if live else services.read_details(self.object)
        return context
