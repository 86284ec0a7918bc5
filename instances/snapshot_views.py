"""A VM's snapshots on its page: the section (loaded into the detail page), create, revert, delete.

The same services as /api/instances/<id>/snapshots/ (instances/snapshots.py). Every write is a POST
(CSRF checked by Django) that queues a job (instances/lifecycle_jobs.py) and goes on to the job's page, which
shows its progress and log; a refusal found before (bad input: the form again, with the error beside its
field, 400; a missing snapshot or a wrong state: a message on the VM's page) queues nothing.
"""
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from core import command_preview
from core.generic import is_htmx, redirect
from core.permissions import RestrictedQuerysetMixin
from virt import commands as virt_commands
from virt.errors import VirtError

from . import command_lines, lifecycle_jobs, snapshots
from .choices import InstanceState
from .models import Instance
from .snapshot_forms import SnapshotForm


def back_to(instance):
    return f"{instance.get_absolute_url()}#snapshots"


class InstanceSnapshotView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    permission_action = "snapshots"  # access/rules.py: an operator grant with `snapshots`
    queryset = Instance.objects.select_related("host")
    context_object_name = "instance"


class SnapshotSectionView(InstanceSnapshotView):
    """GET: the section; htmx (the detail page loading it) gets the section alone, a browser a whole page."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if command_preview.is_preview(request):  # the create form's line, as it is filled in
            return command_preview.lines_response(request, SnapshotForm(request.GET), self.command_lines)
        return self.render(SnapshotForm())

    def command_lines(self, form):
        return command_lines.snapshot_create(self.object, **form.cleaned_data)

    def render(self, form, status=200):
        instance = self.object
        native = snapshots.native_external_revert(instance.host)
        context = {"instance": instance, "object": instance, "form": form, "native_external_revert": native,
                   "libvirt_version": instance.host.facts.get("libvirt_version", ""),
                   # virtdeck's own revert needs a shut-off VM (as the inventory last saw it; the service checks)
                   "external_revert_blocked": not native and instance.state != InstanceState.SHUTOFF}
        try:
            context["snapshots"] = snapshots.list_snapshots(instance)
        except VirtError as exc:
            context["snapshots"], context["snapshots_error"] = [], exc.message
        context["command_preview_url"] = f"{reverse('instances:instance_snapshots', args=[instance.pk])}?commands=1"
        context["snapshot_commands"] = command_lines.snapshot_lines(instance, context["snapshots"])
        template = "instances/_snapshot_section.html" if is_htmx(self.request) else "instances/instance_snapshots.html"
        return TemplateResponse(self.request, template, context, status=status)


def to_job(request, job, message):
    request.job_id = job.pk  # for the audit log
    messages.success(request, message)
    return redirect(request, job.get_absolute_url())


class SnapshotCreateView(SnapshotSectionView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = instance = self.get_object()
        form = SnapshotForm(request.POST)
        if form.is_valid():
            try:
                job = lifecycle_jobs.create_snapshot(instance, request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)  # keyed by field: shown beside it
            except VirtError as exc:
                messages.error(request, gettext("Snapshot of %(vm)s failed: %(error)s")
                               % {"vm": instance.name, "error": exc.message})
                return HttpResponseRedirect(back_to(instance))
            else:
                return to_job(request, job, gettext("Taking snapshot %(name)s of %(vm)s: job #%(job)s.")
                              % {"name": form.cleaned_data["name"], "vm": instance.name, "job": job.pk})
        return self.render(form, status=400)


class SnapshotRevertView(InstanceSnapshotView):
    http_method_names = ["post"]

    def post(self, request, *args, name, **kwargs):
        instance = self.get_object()
        discard = bool(request.POST.get("discard_current"))  # the checkbox beside virtdeck's own revert
        try:
            job = lifecycle_jobs.revert_snapshot(instance, request.user, name, discard_current=discard)
        except VirtError as exc:
            messages.error(request, gettext("Revert of %(vm)s to %(name)s failed: %(error)s")
                           % {"vm": instance.name, "name": name, "error": exc.message})
            return HttpResponseRedirect(back_to(instance))
        return to_job(request, job, gettext("Reverting %(vm)s to %(name)s: job #%(job)s.")
                      % {"vm": instance.name, "name": name, "job": job.pk})


class SnapshotDeleteView(InstanceSnapshotView):
    """GET asks for confirmation; POST deletes."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, name, **kwargs):
        instance = self.get_object()
        return TemplateResponse(request, "instances/snapshot_confirm_delete.html",
                                {"object": instance, "instance": instance, "snapshot": name, "form": forms.Form(),
                                 "commands": virt_commands.snapshot_delete(instance.host.uri, instance.name, name)})

    def post(self, request, *args, name, **kwargs):
        instance = self.get_object()
        try:
            job = lifecycle_jobs.delete_snapshot(instance, request.user, name)
        except VirtError as exc:
            messages.error(request, gettext("Deleting snapshot %(name)s of %(vm)s failed: %(error)s")
                           % {"vm": instance.name, "name": name, "error": exc.message})
            return HttpResponseRedirect(back_to(instance))
        return to_job(request, job, gettext("Deleting snapshot %(name)s of %(vm)s: job #%(job)s.")
                      % {"vm": instance.name, "name": name, "job": job.pk})


urlpatterns = [
    path("<int:pk>/snapshots/", SnapshotSectionView.as_view(), name="instance_snapshots"),
    path("<int:pk>/snapshots/create/", SnapshotCreateView.as_view(), name="instance_snapshot_create"),
    path("<int:pk>/snapshots/<str:name>/revert/", SnapshotRevertView.as_view(), name="instance_snapshot_revert"),
    path("<int:pk>/snapshots/<str:name>/delete/", SnapshotDeleteView.as_view(), name="instance_snapshot_delete"),
]
