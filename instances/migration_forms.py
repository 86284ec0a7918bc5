"""The Migrate page's form: the same options as POST /api/instances/<id>/migrate/ (virt.migration.Options)."""
from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from hosts.models import Host
from virt import migration as virt_migration

from .lifecycle_views import InstanceIdsField

STORAGE_LABELS = {
    "shared": _("Shared: both hosts see the disks"),
    "copy_all": _("Copy all disks to the target"),
    "copy_incremental": _("Copy disks incrementally (the target has a copy of the base images)"),
}


class MigrateForm(forms.Form):
    target_host = forms.ModelChoiceField(queryset=Host.objects.none(), label=_("Target host"))
    live = forms.BooleanField(required=False, initial=True, label=_("Live (the VM keeps running while it moves)"))
    storage = forms.ChoiceField(choices=[(mode, STORAGE_LABELS[mode]) for mode in virt_migration.STORAGE_MODES],
                                initial="shared", label=_("Storage"))
    unsafe = forms.BooleanField(required=False, label=_("Unsafe: I know the disks are on storage both hosts share"))
    persistent = forms.BooleanField(required=False, initial=True, label=_("Define the VM on the target"))
    undefine_source = forms.BooleanField(required=False, initial=True, label=_("Undefine it on the source"))
    peer2peer = forms.BooleanField(required=False, initial=True,
                                   label=_("Peer to peer (the source's libvirtd talks to the target's)"))
    tunnelled = forms.BooleanField(required=False, label=_("Tunnelled through libvirtd"))
    max_bandwidth_mib = forms.IntegerField(required=False, min_value=1, max_value=1 << 20,
                                           label=_("Maximum bandwidth (MiB/s)"))
    max_downtime_ms = forms.IntegerField(required=False, min_value=1, max_value=600_000,
                                         label=_("Maximum downtime (ms)"))
    auto_converge = forms.BooleanField(required=False, label=_("Auto-converge (throttle the guest's CPU)"))
    post_copy = forms.BooleanField(required=False, label=_("Allow switching to post-copy"))
    compressed = forms.BooleanField(required=False, label=_("Compress"))

    def __init__(self, *args, hosts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_host"].queryset = hosts if hosts is not None else Host.objects.none()
        for field in self.fields.values():
            widget = field.widget
            widget.attrs["class"] = ("form-check-input" if isinstance(widget, forms.CheckboxInput)
                                     else "form-select" if isinstance(widget, forms.Select) else "form-control")

    def options(self):
        data = dict(self.cleaned_data)
        data.pop("target_host")
        return virt_migration.Options(**data)


class EvacuateForm(forms.Form):
    target_host = forms.ModelChoiceField(queryset=Host.objects.none(), required=False, label=_("Target host"),
                                         empty_label=_("Any host that fits (most free memory first)"))
    parallel = forms.IntegerField(min_value=1, initial=1, label=_("Migrations at a time"))
    unsafe = forms.BooleanField(required=False,
                                label=_("Unsafe: I know disks in plain directories both hosts see are shared"))
    styled = ("target_host", "parallel", "unsafe")

    def __init__(self, *args, hosts=None, max_parallel=8, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_host"].queryset = hosts if hosts is not None else Host.objects.none()
        self.fields["parallel"].max_value = max_parallel
        self.fields["parallel"].validators.append(MaxValueValidator(max_parallel))
        for name in self.styled:
            widget = self.fields[name].widget
            widget.attrs["class"] = ("form-check-input" if isinstance(widget, forms.CheckboxInput)
                                     else "form-select" if isinstance(widget, forms.Select) else "form-control")


class BulkMigrateForm(EvacuateForm):
    """The list's selected VMs, where to and how many at a time (the same as POST /api/instances/bulk/migrate/)."""

    ids = InstanceIdsField()
