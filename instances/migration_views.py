"""The Migrate page of a VM: the precheck of every other host and the options; POST starts the job and
shows its page (live progress). The same services as /api/instances/<id>/migrate/ (instances/migration.py)."""
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from core.permissions import RestrictedQuerysetMixin, restrict
from hosts.models import Host
from virt.errors import VirtError

from . import evacuation, migration, migration_jobs
from .migration_forms import EvacuateForm, MigrateForm
from .models import Instance


class MigrateView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    permission_action = "migrate"  # access/rules.py: an operator grant with `migrate`
    queryset = Instance.objects.select_related("host")
    context_object_name = "instance"
    http_method_names = ["get", "post"]

    def targets(self):
        return restrict(Host.objects.all(), self.request.user).exclude(pk=self.object.host_id).order_by("name")

    def render(self, form, status=200):
        context = {"instance": self.object, "object": self.object, "form": form,
                   "running_job": migration.running_migration(self.object)}
        try:
            context["candidates"] = migration.precheck(self.object, list(self.targets()))
        except VirtError as exc:
            context["candidates"], context["precheck_error"] = [], exc.message
        return TemplateResponse(self.request, "instances/instance_migrate.html", context, status=status)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = MigrateForm(hosts=self.targets())
        return self.render(form)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = MigrateForm(request.POST, hosts=self.targets())
        if form.is_valid():
            try:
                job = migration_jobs.start_migration(self.object, request.user, form.cleaned_data["target_host"],
                                                form.options())
            except ValidationError as exc:
                form.add_error(None, exc)  # keyed by field: shown beside it
            except VirtError as exc:
                form.add_error(None, exc.message)
            else:
                return HttpResponseRedirect(reverse("core:job_detail", args=[job.pk]))
        return self.render(form, status=400)


urlpatterns = [path("<int:pk>/migrate/", MigrateView.as_view(), name="instance_migrate")]


class EvacuateView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """A host's Evacuate page: its running VMs and the options; POST starts the parent job."""

    queryset = Host.objects.all()
    context_object_name = "host"
    http_method_names = ["get", "post"]

    def form(self, data=None):
        targets = restrict(Host.objects.all(), self.request.user).exclude(pk=self.object.pk).order_by("name")
        return EvacuateForm(data, hosts=targets, max_parallel=evacuation.MAX_PARALLEL)

    def render(self, form, status=200):
        context = {"host": self.object, "object": self.object, "form": form,
                   "vms": evacuation.running_vms(self.object)}
        return TemplateResponse(self.request, "instances/host_evacuate.html", context, status=status)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render(self.form())

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.form(request.POST)
        if form.is_valid():
            try:
                job = migration_jobs.start_evacuation(self.object, request.user, target=form.cleaned_data["target_host"],
                                                  parallel=form.cleaned_data["parallel"],
                                                  unsafe=form.cleaned_data["unsafe"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return HttpResponseRedirect(reverse("core:job_detail", args=[job.pk]))
        return self.render(form, status=400)


# Mounted under /hosts/ (hosts/urls.py): the page belongs to a host.
host_urlpatterns = [path("<int:pk>/evacuate/", EvacuateView.as_view(), name="host_evacuate")]
