from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.generic import ObjectDeleteView, ObjectDetailView, ObjectListView
from core.permissions import AdminRequiredMixin, restrict
from virt.errors import VirtError

from . import host_key_views, services
from .actions import ACTIONS, DELETE
from .filters import HostFilterSet
from .forms import HostForm
from .models import Host
from .querysets import with_instance_counts, without_secrets


class HostListView(ObjectListView):
    queryset = with_instance_counts(without_secrets(Host.objects.order_by("name")))  # GROUP BY drops Meta.ordering
    filterset_class = HostFilterSet
    paginate_by = 100
    extra_context = {"live_topics": "host instance"}  # states, and the VM counts per host (core/events.py)


class HostDetailView(ObjectDetailView):
    queryset = with_instance_counts(Host.objects.all())
    object_actions = ACTIONS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["instances"] = self.object.instances.all()[:200]
        context["jobs"] = self.object.jobs.all()[:10]
        context["live_topics"] = f"host:{self.object.pk}"  # its VMs, pools and jobs too (core/events.py)
        return context


class HostFormView(AdminRequiredMixin, FormView):
    """Add or edit a host. Saving connects first; libvirt's error is shown verbatim."""

    template_name = "hosts/host_form.html"
    form_class = HostForm

    def get_object(self):
        pk = self.kwargs.get("pk")
        return get_object_or_404(restrict(Host.objects.all(), self.request.user), pk=pk) if pk else Host()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.get_object()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["transport_fields"] = {t.key: {"fields": list(t.fields), "example": t.example}
                                       for t in context["form"].transports()}
        context.update(host_key_views.carried_ssh_steps(self.request))
        return context

    def form_valid(self, form):
        host = form.instance
        try:
            if host.pk:
                services.update_host(host, form.changed_data)
            else:
                services.create_host(host)
        except VirtError as exc:
            form.add_error(None, _("Could not connect to %(uri)s: %(error)s") % {"uri": host.uri, "error": exc.message})
            return self.form_invalid(form)
        messages.success(self.request, _("Host %(name)s saved and reachable.") % {"name": host.name})
        return redirect(host.get_absolute_url())


class HostDeleteView(ObjectDeleteView):
    model = Host
    action = DELETE
