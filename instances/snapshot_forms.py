from django import forms
from django.utils.translation import gettext_lazy as _

from .snapshots import DESCRIPTION_MAX, SnapshotKind


class SnapshotForm(forms.Form):
    """Take a snapshot. The rules are instances.snapshots' (the same as the API's), checked by its service."""

    name = forms.CharField(label=_("Name"), required=False, strip=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=SnapshotKind.choices, initial=SnapshotKind.INTERNAL,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    description = forms.CharField(label=_("Description"), required=False, strip=False,
                                  max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 2}))
