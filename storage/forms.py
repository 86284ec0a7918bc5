"""Page forms. They turn what people type into the arguments of storage.services, which checks them again
(so the API, which has no forms, gets the same rules); libvirt's own refusals come back as form errors."""
from django import forms
from django.utils.translation import gettext_lazy as _

from instances.models import Instance
from virt.xml.storage import MAX_VOLUME_BYTES, POOL_TYPES

from .choices import Allocation
from .models import StoragePool

UNITS = {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}

# Every PoolXML field a pool type may take (virt/xml/pool_types.py), as a form field.
POOL_FIELD_LABELS = {
    "target_path": _("Target path (where the pool's volumes appear on the host)"),
    "target_mode": _("Directory mode (octal, e.g. 0711)"),
    "target_owner": _("Owner (uid)"),
    "target_group": _("Group (gid)"),
    "target_label": _("Security label"),
    "source_device": _("Source device (e.g. /dev/sdb1, or an iSCSI target IQN)"),
    "source_devices": _("Physical volumes (device paths, one per line)"),
    "source_host": _("Source host (NFS server, iSCSI portal, Ceph monitor...)"),
    "source_port": _("Source port"),
    "source_dir": _("Source directory (the export)"),
    "source_name": _("Source name (volume group, Ceph pool, gluster volume, zpool)"),
    "source_format": _("Source format"),
    "source_protocol_version": _("NFS version"),
    "source_initiator": _("Initiator IQN"),
    "source_adapter_name": _("SCSI adapter (e.g. host0)"),
    "auth_username": _("CHAP/Ceph user name"),
    "auth_secret_usage": _("libvirt secret (usage name)"),
    "auth_secret_uuid": _("libvirt secret (UUID)"),
}
INTEGER_FIELDS = ("source_port", "target_owner", "target_group")


def _control(field):
    if isinstance(field.widget, forms.MultiWidget):
        return field  # its parts carry their own classes
    css = "form-select" if isinstance(field.widget, forms.Select) else (
        "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control")
    field.widget.attrs.setdefault("class", css)
    return field


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _control(field)


class PoolTypeForm(StyledForm):
    """Step one of a new pool: the host and a type it supports (choices set by the view)."""

    host = forms.ChoiceField(label=_("Host"))
    type = forms.ChoiceField(label=_("Type"))


class PoolForm(StyledForm):
    """Step two: the name, and the fields the chosen type takes (required ones marked)."""

    name = forms.CharField(label=_("Name"), max_length=240)
    build = forms.BooleanField(label=_("Build the storage (create the directory, format, create the volume group)"),
                               required=False, initial=True)
    start = forms.BooleanField(label=_("Start it now"), required=False, initial=True)
    autostart = forms.BooleanField(label=_("Start when the host boots"), required=False, initial=True)

    def __init__(self, *args, pool_type, source_formats=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = POOL_TYPES[pool_type]
        for name in self.spec.fields:
            label = POOL_FIELD_LABELS[name]
            required = name in self.spec.required
            if name in INTEGER_FIELDS:
                field = forms.IntegerField(label=label, required=required)
            elif name == "source_format":
                choices = source_formats or self.spec.source_formats
                field = forms.ChoiceField(label=label, required=required, choices=[("", "—"), *zip(choices, choices)])
            elif name == "source_devices":
                field = forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": 2}))
            else:
                field = forms.CharField(label=label, required=required, max_length=1024)
            self.fields[name] = _control(field)
        if not self.spec.buildable:
            del self.fields["build"]

    def pool_fields(self):
        """The type's fields as build_pool takes them."""
        values = {name: self.cleaned_data.get(name) for name in self.spec.fields}
        if values.get("source_devices"):
            values["source_devices"] = [line.strip() for line in values["source_devices"].splitlines() if line.strip()]
        return values


class SizeWidget(forms.MultiWidget):
    def __init__(self):
        super().__init__(widgets=[forms.NumberInput(attrs={"class": "form-control", "step": "any", "min": "0"}),
                                  forms.Select(attrs={"class": "form-select"}, choices=[(u, u) for u in UNITS])])

    def decompress(self, value):
        """Bytes shown in the largest unit that holds them whole (GiB by default)."""
        if not value:
            return [None, "GiB"]
        unit = next((unit for unit in reversed(UNITS) if value % UNITS[unit] == 0), "MiB")
        return [value / UNITS[unit] if value % UNITS[unit] else value // UNITS[unit], unit]


class SizeField(forms.MultiValueField):
    """A size typed as a number and a unit, cleaned to bytes."""

    def __init__(self, **kwargs):
        fields = (forms.DecimalField(min_value=0, max_digits=20, decimal_places=3),
                  forms.ChoiceField(choices=[(unit, unit) for unit in UNITS]))
        super().__init__(fields=fields, widget=SizeWidget(), require_all_fields=True, **kwargs)

    def compress(self, data_list):
        if not data_list:
            return None
        number, unit = data_list
        size = int(number * UNITS[unit])
        if size < 1 or size > MAX_VOLUME_BYTES:
            raise forms.ValidationError(_("Expected a size from 1 byte to 1 PiB."), code="range")
        return size


class VolumeForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=240)
    capacity = SizeField(label=_("Capacity"))
    format = forms.ChoiceField(label=_("Format"), choices=[("qcow2", "qcow2"), ("raw", "raw")])
    allocation = forms.ChoiceField(label=_("Allocation"), choices=Allocation.choices, initial=Allocation.THIN)


class ResizeForm(StyledForm):
    capacity = SizeField(label=_("New capacity"))
    shrink = forms.BooleanField(label=_("Allow shrinking (data past the new end is lost)"), required=False)


class CloneForm(StyledForm):
    name = forms.CharField(label=_("Name of the copy"), max_length=240)
    pool = forms.ModelChoiceField(label=_("Into pool"), queryset=StoragePool.objects.none())
    format = forms.ChoiceField(label=_("Format"), required=False,
                               choices=[("", _("same as the source")), ("qcow2", "qcow2"), ("raw", "raw")])
    allocation = forms.ChoiceField(label=_("Allocation"), choices=Allocation.choices, initial=Allocation.THIN)

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools


class ConvertForm(StyledForm):
    format = forms.ChoiceField(label=_("Convert to"), choices=[("qcow2", "qcow2"), ("raw", "raw")])
    allocation = forms.ChoiceField(label=_("Allocation"), choices=Allocation.choices, initial=Allocation.THIN)
    name = forms.CharField(label=_("Name of the new volume"), max_length=240, required=False,
                           help_text=_("Default: the source's name with the new format's suffix."))
    pool = forms.ModelChoiceField(label=_("Into pool"), queryset=StoragePool.objects.none())
    instance = forms.ModelChoiceField(label=_("Then switch this shut-off VM's disk to the new volume"),
                                      queryset=Instance.objects.none(), required=False)

    def __init__(self, *args, pools, instances=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools
        self.fields["instance"].queryset = instances if instances is not None else Instance.objects.none()


class PoolDeleteForm(forms.Form):
    delete_storage = forms.BooleanField(
        label=_("Also delete the storage (the empty directory or volume group), where the type allows"),
        required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
