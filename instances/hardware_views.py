"""The hardware page of a VM (/instances/{id}/hardware/): its disks, NICs, vCPUs, memory, CPU, boot order and VNC,
with a form for each change.

Each form POSTs to hardware/<change>/[<disk target or MAC>/], is validated by the same serializer as its API
route (instances/api/devices.py) and calls the same service (instances/devices.py); the message says which
changes are live and which wait for the next boot. Then back to the page.
"""
from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import DetailView, View
from django.views.generic.detail import SingleObjectMixin

from core import command_preview
from core.generic import redirect
from core.permissions import RestrictedQuerysetMixin
from virt.errors import VirtError
from virt.disk_changes import CACHE_MODES, DISK_BUSES
from virt.hardware import BOOT_DEVICES, NIC_MODELS, NIC_TYPES
from virt.volumes import ALLOCATIONS
from virt.xml.cpu import CPU_MODES
from virt.xml.storage import VOLUME_FORMATS

from . import command_lines, devices
from .api import devices as api
from .models import Instance

# change -> (serializer, service(instance, validated data, device)); device: the disk target or NIC MAC in the URL.
CHANGES = {
    "config": (api.ConfigSerializer, lambda vm, data, _device: devices.update_config(vm, **data)),
    "disk-attach": (api.DiskAttachSerializer, lambda vm, data, _device: devices.attach_disk(vm, **data)),
    "disk-update": (api.DiskUpdateSerializer, lambda vm, data, target: devices.update_disk(vm, target, **data)),
    "disk-resize": (api.DiskResizeSerializer, lambda vm, data, target: devices.resize_disk(vm, target, **data)),
    "disk-detach": (None, lambda vm, data, target: devices.detach_disk(vm, target)),
    "media-insert": (api.MediaSerializer, lambda vm, data, target: devices.change_media(vm, target, **data)),
    "media-eject": (None, lambda vm, data, target: devices.change_media(vm, target)),
    "nic-add": (api.NicAddSerializer, lambda vm, data, _device: devices.add_nic(vm, **data)),
    "nic-update": (api.NicUpdateSerializer, lambda vm, data, mac: devices.update_nic(vm, mac, **data)),
    "nic-remove": (None, lambda vm, data, mac: devices.remove_nic(vm, mac)),
}
# Fields the forms send as lists (several <select name="boot">).
LIST_FIELDS = {"boot"}


def form_data(post):
    """The POSTed form as JSON-like data: a field left empty is not given (so it changes nothing)."""
    data = {}
    for key, values in post.lists():
        values = [value for value in values if value != ""]
        if key == "csrfmiddlewaretoken" or not values:
            continue
        data[key] = values if key in LIST_FIELDS else values[-1]
    return data


class ValidatedSerializer:
    """A serializer seen as a form (is_valid, cleaned_data) by core.command_preview."""

    def __init__(self, serializer):
        self.serializer = serializer

    def is_valid(self):
        return self.serializer.is_valid()

    @property
    def cleaned_data(self):
        return dict(self.serializer.validated_data)


def describe(changes):
    """'vcpus: now; max_vcpus: at the next boot' for the success message."""
    return "; ".join(f"{change.field}: {_('now') if change.live else _('at the next boot')}" for change in changes)


def field_errors(detail):
    """A serializer's errors as one line: 'size_mib: Ensure this value is greater than or equal to 1.'"""
    parts = []
    for field, errors in detail.items():
        texts = errors if isinstance(errors, list) else [errors]
        label = "" if field == "non_field_errors" else f"{field}: "
        parts.append(label + " ".join(str(text) for text in texts))
    return "; ".join(parts)


class HardwareView(RestrictedQuerysetMixin, DetailView):
    queryset = Instance.objects.select_related("host")
    template_name = "instances/instance_hardware.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            context["hardware"], context["error"] = devices.hardware(self.object), ""
        except VirtError as exc:
            context["hardware"], context["error"] = None, exc.message
        boot = context["hardware"]["boot"] if context["hardware"] else []
        context.update(disk_buses=DISK_BUSES, cache_modes=CACHE_MODES, nic_models=NIC_MODELS, nic_types=NIC_TYPES,
                       cpu_modes=CPU_MODES, boot_devices=BOOT_DEVICES, volume_formats=VOLUME_FORMATS,
                       allocations=ALLOCATIONS,
                       # one <select> per position, each with the device chosen there now ("" for none)
                       boot_slots=[boot[i] if i < len(boot) else "" for i in range(len(BOOT_DEVICES))])
        return context


# change -> its command lines (instances/command_lines.py), from the same validated data; GET ?commands=1 only.
COMMAND_LINES = {"config": command_lines.counts, "nic-add": command_lines.nic_add,
                 "disk-attach": command_lines.disk_attach}


@method_decorator(sensitive_post_parameters("vnc_password"), name="post")  # kept out of Django's error reports
class HardwareChangeView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """POST (CSRF checked by Django) changes; GET ?commands=1 answers the virsh lines for a form's values."""

    http_method_names = ["get", "post"]
    queryset = Instance.objects.select_related("host")

    def get(self, request, pk, change, device=None):
        if change not in COMMAND_LINES or not command_preview.is_preview(request):
            return HttpResponseNotAllowed(["POST"])
        instance = self.get_object()
        serializer = CHANGES[change][0](data=form_data(request.GET))
        return command_preview.lines_response(
            request, ValidatedSerializer(serializer), lambda form: COMMAND_LINES[change](instance, **form.cleaned_data))

    def post(self, request, pk, change, device=None):
        if change not in CHANGES:
            raise Http404
        instance = self.get_object()
        serializer_class, service = CHANGES[change]
        back = reverse("instances:instance_hardware", args=[instance.pk])
        data = {}
        if serializer_class is not None:
            serializer = serializer_class(data=form_data(request.POST))
            if not serializer.is_valid():
                messages.error(request, _("Not changed: %(errors)s") % {"errors": field_errors(serializer.errors)})
                return redirect(request, back)
            data = serializer.validated_data
        try:
            result = service(instance, data, device)
        except VirtError as exc:
            messages.error(request, _("Not changed: %(error)s") % {"error": exc.message})
            return redirect(request, back)
        if result["changes"]:
            messages.success(request, _("Changed: %(changes)s.") % {"changes": describe(result["changes"])})
        else:
            messages.info(request, _("Nothing to change."))
        return redirect(request, back)
