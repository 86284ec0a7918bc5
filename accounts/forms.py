from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import no_control_characters


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"), validators=[no_control_characters],
                           help_text=_("What uses it, e.g. backup script."),
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    read_only = forms.BooleanField(required=False, label=_("Read-only (refused on every write)"),
                                   widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    expires_in_days = forms.IntegerField(min_value=1, max_value=3650, required=False, label=_("Expires in (days)"),
                                         help_text=_("Empty: never."),
                                         widget=forms.NumberInput(attrs={"class": "form-control"}))
