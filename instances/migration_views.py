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

from . import bulk_migration, evacuation, migration, migration_jobs
from .lifecycle_views import InstanceIdsField
from .migration_forms import BulkMigrateForm, EvacuateForm, MigrateForm
from .models import Instance


class MigrateView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    permission_action = "migrate"  # access/rules.py: an operator grant with `migrate`
    read_action = "migrate"  # the precheck asks every host: not for those who may only look
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


class BulkMigrateView(View):
    """Migrate the VMs selected in the list. The list's "Migrate…" button POSTs their ids here: the page then
    shows which of them can go to which host (each VM's precheck). POST with `start` starts the parent job
    and shows its page. GET ?ids=1&ids=2 shows the same precheck."""

    http_method_names = ["get", "post"]

    def form(self, data=None, initial=None):
        hosts = restrict(Host.objects.all(), self.request.user).order_by("name")
        return BulkMigrateForm(data, initial=initial, hosts=hosts, max_parallel=evacuation.MAX_PARALLEL)

    def render(self, form, ids, status=200):
        vms, missing = bulk_migration.selected(ids[:bulk_migration.MAX_IDS], self.request.user)
        targets = list(form.fields["target_host"].queryset)
        context = {"form": form, "targets": targets, "rows": bulk_migration.prechecks(vms, targets),
                   "missing": missing, "too_many": len(ids) > bulk_migration.MAX_IDS,
                   "max_ids": bulk_migration.MAX_IDS}
        return TemplateResponse(self.request, "instances/instance_bulk_migrate.html", context, status=status)

    def chosen(self, data):
        try:
            return InstanceIdsField().clean(data.getlist("ids"))
        except ValidationError:
            return []

    def get(self, request):
        ids = self.chosen(request.GET)
        return self.render(self.form(initial={"ids": ids}), ids)

    def post(self, request):
        if "start" not in request.POST:  # from the list: show the precheck first
            ids = self.chosen(request.POST)
            return self.render(self.form(initial={"ids": ids}), ids)
        form = self.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = migration_jobs.start_bulk_migration(data["ids"], request.user, target=data["target_host"],
                                                          parallel=data["parallel"], unsafe=data["unsafe"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return HttpResponseRedirect(reverse("core:job_detail", args=[job.pk]))
        return self.render(form, self.chosen(request.POST), status=400)


urlpatterns += [path("bulk/migrate/", BulkMigrateView.as_view(), name="instance_bulk_migrate")]
