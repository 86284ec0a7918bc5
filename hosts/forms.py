from django import forms
from django.utils.translation import gettext as _

from core.validators import CREDENTIAL_MAX

from virt import uri as virt_uri

from .models import Host, parse_host_uri


class SecretTextarea(forms.Textarea):
    """A textarea that, like PasswordInput(render_value=False), never renders a value: a form shown again
    after an error must not put a submitted private key back into the page."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class HostForm(forms.ModelForm):
    """Secrets are write-only: shown empty; left empty on edit keeps the stored value."""

    password = forms.CharField(required=False, max_length=CREDENTIAL_MAX,
                               widget=forms.PasswordInput(render_value=False))
    ssh_private_key = forms.CharField(required=False, max_length=CREDENTIAL_MAX,
                                      widget=SecretTextarea(attrs={"rows": 4}),
                                      help_text="OpenSSH private key for qemu+ssh / qemu+libssh")
    tls_client_key = forms.CharField(required=False, max_length=CREDENTIAL_MAX,
                                     widget=SecretTextarea(attrs={"rows": 4}))

    class Meta:
        model = Host
        fields = ["name", "uri", "description", "migration_address", "username", "password",
                  "ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert", "tls_client_key"]
        widgets = {
            "ssh_known_hosts": forms.Textarea(attrs={"rows": 3}),
            "tls_ca_cert": forms.Textarea(attrs={"rows": 3}),
            "tls_client_cert": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        for name in Host.SECRET_FIELDS:
            self.initial[name] = ""
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = "Stored. Leave empty to keep it."
            if self.is_bound and self.data.get(name):  # seen only when the form comes back with errors
                self.fields[name].help_text = _("Not shown again for safety: enter it again.")

    def clean_uri(self):
        try:
            return str(parse_host_uri(self.cleaned_data["uri"]))
        except virt_uri.URIError as exc:
            raise forms.ValidationError(str(exc)) from None

    def _post_clean(self):
        # Keep stored secrets when the field was left empty on edit.
        stored = {n: getattr(self.instance, n) for n in Host.SECRET_FIELDS} if self.instance.pk else {}
        super()._post_clean()
        for name, value in stored.items():
            if not self.cleaned_data.get(name):
                setattr(self.instance, name, value)
