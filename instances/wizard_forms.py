"""The creation wizard's forms. Fields hold raw text: instances/builder.py checks them (one set of rules for
the pages and the API), and its AnswerErrors land on the fields they name."""
from django import forms
from django.utils.translation import gettext_lazy as _

from core.permissions import restrict
from hosts.models import Host
from virt.osinfo import GENERIC, database

from .builder import FIRMWARES, INSTALL_METHODS
from .models import InstanceTemplate

INSTALL_LABELS = {
    "iso": _("Install from an ISO image (a volume in one of the host's pools)"),
    "import": _("Import an existing disk image (boots from it)"),
    "pxe": _("Network boot (PXE)"),
    "none": _("No installation media (an empty VM)"),
}


class StartForm(forms.Form):
    """Step 1: the host, the install method, and optionally a template to start from."""

    host = forms.ModelChoiceField(queryset=Host.objects.none(), label=_("Host"), empty_label=None)
    install = forms.ChoiceField(choices=[(m, INSTALL_LABELS[m]) for m in INSTALL_METHODS], initial="iso",
                                widget=forms.RadioSelect, label=_("Install method"))
    template = forms.ModelChoiceField(queryset=InstanceTemplate.objects.all(), required=False,
                                      label=_("Template"), empty_label=_("(none)"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = restrict(Host.objects.all(), user, "create_instance").only("id", "name")
        bootstrap(self)
        self.fields["install"].widget.attrs["class"] = "form-check-input"


def bootstrap(form):
    """Bootstrap's classes on every widget (radio buttons are laid out by the template)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, (forms.RadioSelect, forms.HiddenInput)):
            widget.attrs.setdefault("class", "form-control")


class QuickCreateForm(forms.Form):
    """Create from a template in one step: a host, a template and a name."""

    host = forms.ModelChoiceField(queryset=Host.objects.none(), label=_("Host"), empty_label=None)
    template = forms.ModelChoiceField(queryset=InstanceTemplate.objects.all(), label=_("Template"), empty_label=None)
    name = forms.CharField(label=_("Name"), strip=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, prefix="quick", **kwargs)
        self.fields["host"].queryset = restrict(Host.objects.all(), user, "create_instance").only("id", "name")
        bootstrap(self)


def _text(label, **kwargs):
    return forms.CharField(label=label, required=False, strip=False, **kwargs)


class AnswersForm(forms.Form):
    """Steps 2 to 5 on one host. Choices are what the host offers now (virt reads, see creation.host_offer)."""

    install = forms.CharField(widget=forms.HiddenInput)
    iso_volume = _text(_("ISO image"), widget=forms.Select)
    import_volume = _text(_("Existing volume"), widget=forms.Select)
    os_variant = _text(_("Operating system"), help_text=_("An osinfo-db short id (debian11, win10...): it decides "
                                                          "the recommended memory, disk and devices."))
    firmware = forms.ChoiceField(choices=[(f, f.upper()) for f in FIRMWARES], initial="bios",
                                 widget=forms.RadioSelect, label=_("Firmware"))
    memory_mib = _text(_("Memory (MiB)"), widget=forms.NumberInput)
    vcpus = _text(_("vCPUs"), widget=forms.NumberInput)
    disk_pool = _text(_("New volume in pool"), widget=forms.Select)
    disk_size_gib = _text(_("Size (GiB)"), widget=forms.NumberInput)
    disk_format = forms.ChoiceField(choices=[("qcow2", "qcow2"), ("raw", "raw")], label=_("Format"))
    disk_allocation = forms.ChoiceField(choices=[("thin", _("thin (allocated as written)")),
                                                 ("thick", _("thick (allocated now)"))], label=_("Allocation"))
    name = _text(_("Name"))
    network = _text(_("Virtual network"), widget=forms.Select)
    bridge = _text(_("Host bridge"), help_text=_("A Linux bridge on the host, e.g. br0."))
    start = forms.BooleanField(label=_("Start it once created"), required=False, initial=True)
    xml = _text(_("Domain XML"), widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))
    customize = forms.BooleanField(label=_("Create from the XML above (as I edited it)"), required=False)
    template_name = _text(_("Template name"))

    def __init__(self, *args, offer=None, **kwargs):
        super().__init__(*args, **kwargs)
        none = [("", _("(none)"))]
        volumes = [(f"{pool}/{v.name}", f"{pool}/{v.name} ({v.format or '?'}, {v.capacity // 1024**2} MiB)")
                   for pool, records in sorted(offer.volumes.items()) for v in records]
        isos = [choice for choice in volumes if choice[0].lower().endswith(".iso")] or volumes
        self.fields["iso_volume"].widget.choices = none + isos
        self.fields["import_volume"].widget.choices = none + volumes
        self.fields["disk_pool"].widget.choices = none + [(p.name, f"{p.name} ({p.type}, "
                                                           f"{p.available // 1024**3} GiB free)") for p in offer.pools]
        self.fields["network"].widget.choices = none + [
            (name, name if active else _("%(name)s (not running)") % {"name": name})
            for name, active in sorted(offer.networks.items())]
        if offer.bridges:
            self.fields["bridge"].widget = forms.Select(choices=none + [(b, b) for b in offer.bridges])

        self.fields["vcpus"].widget.attrs.update(min=1, max=offer.caps.max_vcpus)
        self.fields["memory_mib"].widget.attrs.update(min=16, max=offer.caps.memory_mib)
        self.fields["disk_size_gib"].widget.attrs.update(min=1)
        self.fields["os_variant"].widget.attrs.update(list="os-variants", autocomplete="off")
        bootstrap(self)
        self.fields["xml"].widget.attrs["class"] = "form-control font-monospace small"

    def answers(self):
        """The raw answers for creation.plan_instance (form strings; the builder checks them)."""
        data = self.cleaned_data
        keys = ("install", "iso_volume", "import_volume", "os_variant", "firmware", "memory_mib", "vcpus",
                "disk_pool", "disk_size_gib", "disk_format", "disk_allocation", "name", "network", "bridge", "start")
        return {key: data.get(key) for key in keys if data.get(key) not in (None, "")} | {"start": data["start"]}


def os_choices():
    """(short id, name) of every OS osinfo-db knows, for the form's datalist."""
    return [(GENERIC.short_id, GENERIC.name)] + [(g.short_id, g.name) for g in database().all()]
