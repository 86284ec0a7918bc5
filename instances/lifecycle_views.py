"""The lifecycle's pages: the detail page's section (buttons, shutdown notice, rename), the delete page, and
the list's bulk form. They call the same services as /api/instances/ (instances/api/lifecycle.py)."""
import math
from dataclasses import replace

from django import forms
from django.conf import settings
from django.contrib import messages
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from core import command_preview
from core.forms import ConfirmNameForm
from core.generic import ObjectDeleteView, next_url, redirect
from core.permissions import RestrictedQuerysetMixin
from virt.errors import VirtError

from . import bulk, command_lines, edit, lifecycle
from .actions import BULK, allows, deleting
from .models import Instance

LEFT_REASONS = {
    "not_in_pool": _("%(path)s is in no storage pool of the host, so libvirt cannot delete it: it was left."),
    "used_by_another_vm": _("%(path)s is used by %(vm)s: it was left."),
    "network_disk": _("%(path)s is a network disk: it was left."),
}


def deletion_messages(report):
    """What a delete did to the disk images, in words (the page's messages)."""
    lines = []
    if report["deleted"]:
        lines.append(gettext("Deleted: %(images)s.") % {"images": ", ".join(report["deleted"])})
    for left in report["left"]:
        lines.append(str(LEFT_REASONS[left["reason"]]) % {"path": left["path"], "vm": left.get("vm", "")})
    return lines


def detail_context(instance):
    """Context for templates/instances/_detail_lifecycle.html (DB and cache only)."""
    pending = lifecycle.pending_shutdown(instance)
    if pending and not pending["overdue"]:
        # The section re-fetches itself once the grace period is over, to offer force off.
        waited = (timezone.now() - pending["requested_at"]).total_seconds()
        pending["recheck_in"] = max(1, math.ceil(settings.INSTANCE_SHUTDOWN_GRACE - waited))
    return {"pending_shutdown": pending, "rename_form": RenameForm(initial={"name": instance.name}),
            "can_rename": allows("rename")(instance), "can_delete": allows("delete")(instance)}


class RenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=500, strip=False,
                           widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        # Ids of its own: the VM page holds other forms with a "name" field (snapshots).
        kwargs.setdefault("auto_id", "id_rename_%s")
        super().__init__(*args, **kwargs)


class InstanceRenameView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """POST only: rename a shut-off VM (the detail page's form), as PATCH {"name"} does."""

    http_method_names = ["post"]
    model = Instance

    def post(self, request, *args, **kwargs):
        instance = self.get_object()
        form = RenameForm(request.POST)
        old = instance.name
        if not form.is_valid():
            messages.error(request, gettext("Rename of %(object)s failed: %(error)s")
                           % {"object": old, "error": " ".join(form.errors.get("name", []))})
            return redirect(request, instance.get_absolute_url())
        try:
            fresh, _outcome = edit.update(instance, {"name": form.cleaned_data["name"]})
        except VirtError as exc:
            messages.error(request, gettext("Rename of %(object)s failed: %(error)s")
                           % {"object": old, "error": exc.message})
            return redirect(request, instance.get_absolute_url())
        messages.success(request, gettext("%(old)s renamed to %(new)s.") % {"old": old, "new": fresh.name})
        return redirect(request, fresh.get_absolute_url())


class InstanceDeleteForm(ConfirmNameForm):
    delete_volumes = forms.BooleanField(
        label=_("Also delete its disk images (with its external snapshots' overlays)"), required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))


class InstanceDeleteView(ObjectDeleteView):
    """The name typed to confirm; the definition with its snapshots' metadata, managed save and UEFI
    variables goes, and the disk images too when the box is ticked."""

    model = Instance
    queryset = Instance.objects.select_related("host")
    confirm_name = True

    def get_form_class(self):
        return InstanceDeleteForm

    def get(self, request, *args, **kwargs):
        if command_preview.is_preview(request):  # the undefine line for the box as it is ticked
            self.object = self.get_object()
            return command_preview.lines_response(request, DeleteChoiceForm(request.GET), self.command_lines)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(command_preview_url=command_preview.preview_url(self.request), **kwargs)

    def command_lines(self, form):
        return command_lines.delete(self.object, form.cleaned_data["delete_volumes"])

    def form_valid(self, form):
        chosen = deleting(form.cleaned_data["delete_volumes"])
        self.report = None

        def service(instance):
            self.report = chosen.service(instance)
            return self.report

        self.action = replace(chosen, service=service)
        response = super().form_valid(form)
        for line in deletion_messages(self.report or {"deleted": [], "left": []}):
            messages.info(self.request, line)
        return response


class DeleteChoiceForm(forms.Form):
    """The delete dialog's choice alone: its command line does not wait for the typed name."""

    delete_volumes = InstanceDeleteForm.base_fields["delete_volumes"]


class InstanceIdsField(forms.Field):
    """Checked boxes: instance ids, each once (whether they exist is for the bulk run to say, per id)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        ids = []
        for raw in value or []:
            try:
                number = int(raw)
            except (TypeError, ValueError):
                number = 0
            if not 0 < number < 2**63:
                raise forms.ValidationError(gettext("%(value)s is not an instance id.") % {"value": str(raw)[:20]})
            ids.append(number)
        ids = list(dict.fromkeys(ids))
        if len(ids) > bulk.MAX_IDS:
            raise forms.ValidationError(gettext("At most %(max)s at once.") % {"max": bulk.MAX_IDS})
        return ids


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(name, action.label) for name, action in BULK.items()])
    ids = InstanceIdsField()


class InstanceBulkView(View):
    """POST only: the list's checkboxes and action select; a message per failure, one for the successes."""

    http_method_names = ["post"]

    def post(self, request):
        form = BulkForm(request.POST)
        list_url = next_url(request, reverse("instances:instance_list"))
        if not form.is_valid():
            errors = " ".join(error for field_errors in form.errors.values() for error in field_errors)
            messages.error(request, gettext("Nothing done: %(errors)s") % {"errors": errors})
            return redirect(request, list_url)
        action = BULK[form.cleaned_data["action"]]
        results = bulk.run(action.name, form.cleaned_data["ids"], request.user)
        done = [result["name"] for result in results if result["ok"]]
        if done and action.answers_job:
            messages.success(request, gettext("%(action)s: jobs queued for %(names)s (%(jobs)s).") % {
                "action": action.label, "names": ", ".join(done),
                "jobs": ", ".join(f"#{result['job']}" for result in results if result["ok"])})
        elif done:
            messages.success(request, gettext("%(action)s: done for %(names)s.")
                             % {"action": action.label, "names": ", ".join(done)})
        for result in results:
            if not result["ok"]:
                messages.error(request, gettext("%(action)s of %(object)s failed: %(error)s") % {
                    "action": action.label, "object": result["name"] or f"#{result['id']}",
                    "error": result["detail"]})
        return redirect(request, list_url)
