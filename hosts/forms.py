from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.validators import CREDENTIAL_MAX

from virt import uri as virt_uri
from virt.errors import InvalidValue

from . import host_keys
from .models import Host, parse_host_uri
from .transports import BY_KEY, CREDENTIAL_FIELDS, TRANSPORTS, of_scheme


class SecretTextarea(forms.Textarea):
    """A textarea that, like PasswordInput(render_value=False), never renders a value: a form shown again
    after an error must not put a submitted private key back into the page."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class HostForm(forms.ModelForm):
    """Secrets are write-only: shown empty; left empty on edit keeps the stored value.

    The transport comes first and decides which credential fields count: values sent for others are dropped
    (stored secrets stay, as for any field left empty). An SSH host
    needs its host key pinned: fetched by virtdeck and confirmed by the admin (ssh_host_key_token and
    confirm_host_key, from the fetch step), or pasted known_hosts lines. generated_key_token carries a key pair
    virtdeck generated (hosts.host_keys)."""

    transport = forms.ChoiceField(label=gettext_lazy("Transport"), widget=forms.RadioSelect)
    password = forms.CharField(required=False, max_length=CREDENTIAL_MAX,
                               widget=forms.PasswordInput(render_value=False))
    ssh_private_key = forms.CharField(required=False, max_length=CREDENTIAL_MAX,
                                      widget=SecretTextarea(attrs={"rows": 4}),
                                      help_text=gettext_lazy("OpenSSH private key for qemu+ssh / qemu+libssh"))
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

    LABELS = {
        "uri": gettext_lazy("URI"),
        "username": gettext_lazy("SASL user name"),
        "password": gettext_lazy("SASL password"),
        "ssh_private_key": gettext_lazy("SSH private key"),
        "ssh_known_hosts": gettext_lazy("SSH known hosts"),
        "tls_ca_cert": gettext_lazy("TLS CA certificate"),
        "tls_client_cert": gettext_lazy("TLS client certificate"),
        "tls_client_key": gettext_lazy("TLS client key"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transport"].choices = [(t.key, t.label) for t in self.transports()]
        self.order_fields(["transport"])
        for name, label in self.LABELS.items():
            self.fields[name].label = label
        self.fields["ssh_known_hosts"].help_text = _(
            "Leave empty and use \"Fetch the host key\" to pin the key the host offers, or paste known_hosts lines.")
        if self.instance.pk:
            transport = self._transport_of(self.instance.uri)
            self.initial.setdefault("transport", transport.key if transport else None)
        else:
            self.initial.setdefault("transport", "ssh")
        for name, field in self.fields.items():
            if name != "transport":
                field.widget.attrs.setdefault("class", "form-control")
        for name in Host.SECRET_FIELDS:
            self.initial[name] = ""
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = _("Stored. Leave empty to keep it.")
            if self.is_bound and self.data.get(name):  # seen only when the form comes back with errors
                self.fields[name].help_text = _("Not shown again for safety: enter it again.")

    def clean_uri(self):
        try:
            return str(parse_host_uri(self.cleaned_data["uri"]))
        except virt_uri.URIError as exc:
            raise forms.ValidationError(str(exc)) from None

    @staticmethod
    def transports():
        return [t for t in TRANSPORTS if t.key != "test" or settings.VIRTDECK_ALLOW_TEST_DRIVER]

    @staticmethod
    def _transport_of(uri):
        return of_scheme(uri.split(":", 1)[0].lower()) if uri else None

    def clean(self):
        data = super().clean()
        for name in ("ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert", "tls_client_key"):
            if data.get(name):  # browsers send a textarea's lines with CRLF; OpenSSH cannot load such a key
                data[name] = data[name].replace("\r\n", "\n")
        transport = BY_KEY.get(data.get("transport"))
        if transport is None:
            return data
        uri = data.get("uri")
        if uri and self._transport_of(uri) != transport:
            self.add_error("uri", _("A host reached over %(transport)s has a URI like %(example)s.")
                           % {"transport": transport.label, "example": transport.example})
        for name in CREDENTIAL_FIELDS:
            if name not in transport.fields:
                data[name] = ""
        if transport.key == "ssh" and uri and "uri" not in self.errors:
            try:
                self._clean_ssh(data, uri)
            except InvalidValue as exc:
                self.add_error("ssh_known_hosts" if exc.field == "ssh_host_key" else exc.field, exc.message)
        return data

    def _clean_ssh(self, data, uri):
        token = self.data.get("generated_key_token")
        if token and not data.get("ssh_private_key"):
            data["ssh_private_key"] = host_keys.private_key_from_token(token)
        if data.get("ssh_known_hosts"):
            return  # pasted lines: the admin's own pin
        token = self.data.get("ssh_host_key_token")
        if token:
            offered = host_keys.offered_from_token(token, uri)
            if not self.data.get("confirm_host_key"):
                raise InvalidValue("ssh_host_key", _(
                    "Confirm that the fingerprint %(fingerprint)s is the host's own before virtdeck pins it.")
                    % {"fingerprint": offered.fingerprint})
            data["ssh_known_hosts"] = offered.line
            return
        raise InvalidValue("ssh_host_key", _(
            "Pin the host's SSH key: fetch it and confirm its fingerprint, or paste known_hosts lines."))

    def _post_clean(self):
        # Keep stored secrets when the field was left empty on edit.
        stored = {n: getattr(self.instance, n) for n in Host.SECRET_FIELDS} if self.instance.pk else {}
        super()._post_clean()
        for name, value in stored.items():
            if not self.cleaned_data.get(name):
                setattr(self.instance, name, value)
