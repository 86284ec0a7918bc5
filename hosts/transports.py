"""How virtdeck reaches a host, as the add-host form offers it: each transport's URI schemes, an example URI,
and the credential fields it takes (the form shows only those, and clears the others)."""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Transport:
    key: str
    label: str
    schemes: tuple
    example: str
    fields: tuple  # credential fields of Host this transport uses


TRANSPORTS = (
    Transport("ssh", _("SSH"), ("qemu+ssh", "qemu+libssh"), "qemu+ssh://virtdeck@kvm1.example.org/system",
              ("ssh_private_key", "ssh_known_hosts")),
    Transport("tls", _("TLS"), ("qemu+tls",), "qemu+tls://kvm1.example.org/system",
              ("tls_ca_cert", "tls_client_cert", "tls_client_key", "username", "password")),
    Transport("tcp", _("TCP with SASL"), ("qemu+tcp",), "qemu+tcp://kvm1.example.org/system",
              ("username", "password")),
    Transport("local", _("This machine"), ("qemu", "qemu+unix"), "qemu:///system", ()),
    Transport("test", _("libvirt's test driver"), ("test", "test+tcp", "test+unix"), "test:///default", ()),
)
BY_KEY = {t.key: t for t in TRANSPORTS}
CREDENTIAL_FIELDS = ("username", "password", "ssh_private_key", "ssh_known_hosts", "tls_ca_cert",
                     "tls_client_cert", "tls_client_key")


def of_scheme(scheme):
    return next((t for t in TRANSPORTS if scheme in t.schemes), None)
