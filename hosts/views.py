from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import DeleteView, DetailView, FormView, ListView

from core.jobs import enqueue
from virt.errors import VirtError

from . import services, tasks
from .forms import HostForm
from .models import Host
from .querysets import with_instance_counts, without_secrets


class HostListView(ListView):
    template_name = "hosts/host_list.html"

    def get_queryset(self):
        return with_instance_counts(without_secrets(Host.objects.all()))


class HostDetailView(DetailView):
    template_name = "hosts/host_detail.html"

    def get_queryset(self):
        return with_instance_counts(Host.objects.all())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["instances"] = self.object.instances.all()[:200]
        context["jobs"] = self.object.jobs.all()[:10]
        return context


class HostFormView(FormView):
    """Add or edit a host. Saving connects first; libvirt's error is shown verbatim."""

    template_name = "hosts/host_form.html"
    form_class = HostForm

    def get_object(self):
        pk = self.kwargs.get("pk")
        return get_object_or_404(Host, pk=pk) if pk else Host()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.get_object()
        return kwargs

    def form_valid(self, form):
        host = form.instance
        try:
            if host.pk:
                services.update_host(host, form.changed_data)
            else:
                services.create_host(host)
        except VirtError as exc:
            form.add_error(None, f"Could not connect to {host.uri}: {exc.message}")
            return self.form_invalid(form)
        messages.success(self.request, f"Host {host.name} saved and reachable.")
        return redirect(host.get_absolute_url())


class HostDeleteView(DeleteView):
    model = Host
    template_name = "hosts/host_confirm_delete.html"

    def form_valid(self, form):
        name = self.object.name
        services.delete_host(self.object)
        messages.success(self.request, f"Host {name} removed from virtdeck (nothing changed on the host).")
        return redirect("hosts:host_list")


@require_POST
def host_refresh(request, pk):
    host = get_object_or_404(Host, pk=pk)
    job = enqueue(tasks.refresh_host, user=request.user, target=host, host=host, host_id=host.pk)
    messages.info(request, f"Refreshing {host.name}: job #{job.pk}.")
    return redirect(host.get_absolute_url())
