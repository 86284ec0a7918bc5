"""The creation wizard's pages (/instances/new/) and the clone form of a VM's page.

Step 1 (GET without a host) picks the host, the install method and optionally a template; steps 2-5 are
one page for that host, its choices read live from it. Its buttons: Preview XML (a dry run that touches
nothing), Create (a job; with Customize, from the XML as edited), Save as template.
"""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from core.generic import ObjectDeleteView, ObjectListView, redirect
from core.permissions import RestrictedQuerysetMixin, restrict
from hosts.models import Host
from virt.errors import VirtError

from . import command_lines, creation, creation_tasks
from .builder import AnswerErrors
from .filters import InstanceTemplateFilterSet
from .models import Instance, InstanceTemplate
from .wizard_forms import AnswersForm, QuickCreateForm, StartForm, os_choices

TEMPLATE = "instances/instance_add.html"
DEFAULTS = {"os_variant": "generic", "firmware": "bios", "disk_format": "qcow2", "disk_allocation": "thin",
            "start": True}
# Why the host runs guests as it does (virt.guest_caps.REASONS).
DOMAIN_TYPE_REASONS = {
    "kvm": gettext_lazy("KVM: the CPU has hardware virtualization (vmx/svm) and the host offers KVM."),
    "kvm-no-vmx": gettext_lazy("QEMU (TCG emulation): the host offers KVM, but its CPU shows no vmx/svm (nested or "
                    "paravirtualized KVM), which runs guests slower than TCG."),
    "tcg": gettext_lazy("QEMU (TCG emulation): the host does not offer KVM."),
    "other": gettext_lazy("The host's driver offers only this type."),
}


def add_errors(form, exc):
    """AnswerErrors onto the fields they name (the rest, and other VirtErrors, on the form)."""
    if isinstance(exc, AnswerErrors):
        for name, message in exc.errors.items():
            if name in form.fields:
                form.add_error(name, message)
            else:
                form.add_error(None, f"{name}: {message}")
    else:
        form.add_error(None, exc.message)


class InstanceCreateView(View):
    def get(self, request):
        start = StartForm(request.GET or None, user=request.user)
        if not request.GET or not start.is_valid():
            return self.step_one(request, start)
        host, template = start.cleaned_data["host"], start.cleaned_data["template"]
        initial = {**DEFAULTS, "install": start.cleaned_data["install"], **(template.answers if template else {})}
        return self.step_two(request, host, initial=initial, template=template)

    def step_one(self, request, start, quick=None):
        quick = quick or QuickCreateForm(user=request.user)
        return render(request, TEMPLATE, {"start": start, "quick": quick})

    def post(self, request):
        if request.POST.get("operation") == "from_template":
            return self.from_template(request)
        host_id = request.POST.get("host", "")
        if not host_id.isdigit():
            raise Http404(_("No such host."))
        host = get_object_or_404(restrict(Host.objects.all(), request.user, "create_instance"), pk=int(host_id))
        return self.step_two(request, host, data=request.POST)

    def from_template(self, request):
        """A template's answers with a name: checked against the host and created, all in one step."""
        quick = QuickCreateForm(request.POST, user=request.user)
        if quick.is_valid():
            try:
                plan = creation.plan_instance(quick.cleaned_data["host"], {"name": quick.cleaned_data["name"]},
                                              template=quick.cleaned_data["template"].pk)
                job = creation_tasks.create_instance(plan, request.user)
            except VirtError as exc:
                add_errors(quick, exc)
            else:
                messages.success(request, _("Creating %(name)s: job #%(job)s.") % {"name": plan.answers.name,
                                                                                   "job": job.pk})
                return redirect(request, job.get_absolute_url())
        return self.step_one(request, StartForm(user=request.user), quick)

    def step_two(self, request, host, data=None, initial=None, template=None):
        try:
            offer = creation.host_offer(host)
        except VirtError as exc:
            messages.error(request, _("%(host)s could not be read: %(error)s") % {"host": host, "error": exc.message})
            return self.step_one(request, StartForm(initial={"host": host.pk}, user=request.user))
        form = AnswersForm(data, initial=initial, offer=offer)
        context = {"host": host, "offer": offer, "form": form, "template": template, "os_choices": os_choices(),
                   "domain_type_reason": DOMAIN_TYPE_REASONS.get(offer.caps.reason, "")}
        if data is None or not form.is_valid():
            return render(request, TEMPLATE, context)
        operation = data.get("operation", "preview")
        try:
            if operation == "save_template":
                saved = creation.save_template(form.cleaned_data["template_name"], form.answers())
                messages.success(request, _("Template %(name)s saved.") % {"name": saved.name})
                return render(request, TEMPLATE, context)
            plan = creation.plan_instance(host, form.answers())
            if operation == "create":
                if form.cleaned_data["customize"]:
                    plan = creation.customized(plan, form.cleaned_data["xml"])
                job = creation_tasks.create_instance(plan, request.user)
                messages.success(request, _("Creating %(name)s: job #%(job)s.") % {"name": plan.answers.name,
                                                                                   "job": job.pk})
                return redirect(request, job.get_absolute_url())
        except VirtError as exc:  # AnswerErrors included
            add_errors(form, exc)
            return render(request, TEMPLATE, context)
        # Preview: the XML as it would be defined, also put in the Customize box.
        edited = data.copy()
        edited["xml"] = plan.xml
        context["form"] = AnswersForm(edited, offer=offer)
        context["preview"] = plan.xml
        context["commands"] = command_lines.create(host, plan.answers.name, plan.xml, plan.volume, plan.answers.start)
        return render(request, TEMPLATE, context)


class InstanceCloneView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """POST name, pool (and paused_copy): start the clone job and follow it; a refusal is a message."""

    http_method_names = ["post"]
    model = Instance

    def post(self, request, *args, **kwargs):
        instance = self.get_object()
        try:
            job = creation_tasks.clone_instance(instance, request.user, request.POST.get("name", "").strip(),
                                         request.POST.get("pool", "").strip(),
                                         paused_copy=request.POST.get("paused_copy") == "on")
        except VirtError as exc:
            message = "; ".join(exc.errors.values()) if isinstance(exc, AnswerErrors) else exc.message
            messages.error(request, _("Clone of %(vm)s refused: %(error)s") % {"vm": instance, "error": message})
            return redirect(request, instance.get_absolute_url())
        messages.success(request, _("Cloning %(vm)s: job #%(job)s.") % {"vm": instance, "job": job.pk})
        return redirect(request, job.get_absolute_url())


class InstanceTemplateListView(ObjectListView):
    """The saved answers: each starts the wizard filled in, or is deleted here (the database only)."""

    queryset = InstanceTemplate.objects.all()
    filterset_class = InstanceTemplateFilterSet


class InstanceTemplateDeleteView(ObjectDeleteView):
    queryset = InstanceTemplate.objects.all()
