from django import forms
from django.utils.translation import gettext_lazy as _


class ConfirmNameForm(forms.Form):
    """A destructive action goes ahead only once the user has typed the object's name."""

    name = forms.CharField(label=_("Type the name to confirm"), max_length=500, strip=False, widget=forms.TextInput(
        attrs={"class": "form-control", "autocomplete": "off", "spellcheck": "false"}))

    def __init__(self, *args, expected, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_name(self):
        name = self.cleaned_data["name"]
        if name != self.expected:
            raise forms.ValidationError(_("That is not the name. Type %(name)s exactly."),
                                        code="mismatch", params={"name": self.expected})
        return name
