from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from hosts.models import Host
from instances.models import Instance

from .models import Grant


class UserForm(forms.ModelForm):
    password = forms.CharField(label=_("Password"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False),
                               help_text=_("Leave empty to keep the current one."))
    groups = forms.ModelMultipleChoiceField(Group.objects.order_by("name"), required=False,
                                            widget=forms.CheckboxSelectMultiple, label=_("Groups"))

    class Meta:
        model = get_user_model()
        fields = ["username", "email", "first_name", "last_name", "is_active", "is_superuser"]
        labels = {"is_superuser": _("Admin (superuser)")}


class GroupForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(get_user_model().objects.order_by("username"), required=False,
                                             widget=forms.CheckboxSelectMultiple, label=_("Members"))

    class Meta:
        model = Group
        fields = ["name"]


class GrantForm(forms.ModelForm):
    """Model validation (Grant.clean and its constraints) runs in is_valid: a bad combination names its field."""

    class Meta:
        model = Grant
        fields = ["user", "group", "role", "host", "instance", "lifecycle", "console", "snapshots", "edit",
                  "migrate"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = Host.objects.only("id", "name").order_by("name")
        self.fields["instance"].queryset = Instance.objects.select_related("host").order_by("name")
        self.fields["instance"].label_from_instance = lambda vm: f"{vm.name} ({vm.host.name})"
