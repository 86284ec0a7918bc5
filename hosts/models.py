import dataclasses
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from core.reverse import reverse_pk
from core.validators import CREDENTIAL_MAX, no_control_characters
from virt import testnode
from virt import uri as virt_uri


def parse_host_uri(uri):
    """virt.uri.parse with this deployment's settings: test driver allowed or not, and its node directories."""
    return virt_uri.parse(uri, test_node_dirs=settings.VIRTDECK_TEST_NODE_DIRS,
                          allow_test_driver=settings.VIRTDECK_ALLOW_TEST_DRIVER)


def libvirt_host_uri(uri):
    """parse_host_uri, with a test-driver node file replaced by the checked private copy libvirt reads."""
    parsed = parse_host_uri(uri)
    if not parsed.node_file:
        return parsed
    copy = testnode.private_copy(parsed.node_file, settings.VIRTDECK_TEST_NODE_DIRS,
                                 Path(settings.STATE_DIR) / "test-nodes")
    return dataclasses.replace(parsed, path=copy)


class Host(models.Model):
    """A KVM host: a libvirt URI plus credentials, and what virtdeck last saw of it."""

    class State(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        UP = "up", _("Up")
        UNREACHABLE = "unreachable", _("Unreachable")

    job_target_kind = "host"

    # Write-only and encrypted at rest: never shown back; lists defer them (a Fernet call per value).
    SECRET_FIELDS = ("password", "ssh_private_key", "tls_client_key")
    # Written to private files for libvirt and ssh (hosts.credentials).
    CREDENTIAL_FILE_FIELDS = ("ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert", "tls_client_key")
    # How virtdeck reaches the host: a change to any of them must connect before it is saved.
    CONNECTION_FIELDS = ("uri", "username", "password", *CREDENTIAL_FILE_FIELDS)

    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    uri = models.CharField(max_length=500, help_text=_("libvirt URI, e.g. qemu+ssh://root@kvm1/system"))
    username = models.CharField(max_length=100, blank=True, validators=[no_control_characters], help_text=_("SASL user name (e.g. SCRAM over qemu+tls; libvirt allows only encrypting mechanisms on qemu+tcp)"))
    password = EncryptedTextField(blank=True, max_length=CREDENTIAL_MAX)
    ssh_private_key = EncryptedTextField(blank=True, max_length=CREDENTIAL_MAX)
    ssh_known_hosts = models.TextField(blank=True, max_length=CREDENTIAL_MAX,
                                       help_text=_("known_hosts lines pinning the host's SSH key"))
    tls_ca_cert = models.TextField(blank=True, max_length=CREDENTIAL_MAX)
    tls_client_cert = models.TextField(blank=True, max_length=CREDENTIAL_MAX)
    tls_client_key = EncryptedTextField(blank=True, max_length=CREDENTIAL_MAX)
    migration_address = models.CharField(
        max_length=255, blank=True, validators=[no_control_characters], help_text=_("Address other hosts use to reach this one for migration")
    )
    description = models.CharField(_("description"), max_length=200, blank=True, validators=[no_control_characters])
    created = models.DateTimeField(auto_now_add=True)

    # What virtdeck last saw (written by sync, never by users).
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNKNOWN)
    last_error = models.TextField(blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    last_sync = models.DateTimeField(null=True, blank=True)
    facts = models.JSONField(default=dict, blank=True)
    capabilities_xml = models.TextField(blank=True)
    memory_total_kib = models.BigIntegerField(default=0)
    memory_free_kib = models.BigIntegerField(default=0)
    cpu_percent = models.FloatField(null=True, blank=True)
    cpu_times = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_pk("hosts:host_detail", self.pk)

    @property
    def stale(self):
        """No sync for HOST_STALE_AFTER seconds (workers or beat down): what we show of it is old news."""
        if self.last_sync is None:
            return True
        return (timezone.now() - self.last_sync).total_seconds() > settings.HOST_STALE_AFTER

    @property
    def display_state(self):
        """The state to show: "stale" instead of "up" when no sync has confirmed it lately."""
        return "stale" if self.state == self.State.UP and self.stale else self.state

    @property
    def parsed_uri(self):
        return parse_host_uri(self.uri)

    @property
    def transport(self):
        try:
            return _(virt_uri.SCHEMES[self.parsed_uri.scheme])
        except virt_uri.URIError:
            return _("invalid URI")

    @property
    def memory_used_percent(self):
        if not self.memory_total_kib:
            return None
        return round(100 * (self.memory_total_kib - self.memory_free_kib) / self.memory_total_kib, 1)
