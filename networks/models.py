from django.db import models
from django.urls import reverse

from .choices import NetworkMode


class Network(models.Model):
    """A libvirt virtual network as last seen on its host. Written by the host sync, events and actions."""

    job_target_kind = "network"

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="networks")
    uuid = models.UUIDField()
    name = models.CharField(max_length=200, db_index=True)
    mode = models.CharField(max_length=20, choices=NetworkMode.choices, db_index=True)
    active = models.BooleanField(default=False)
    autostart = models.BooleanField(default=False)
    persistent = models.BooleanField(default=True)
    bridge = models.CharField(max_length=20, blank=True)
    uplinks = models.JSONField(default=list, blank=True)
    macvtap_mode = models.CharField(max_length=20, blank=True)
    ipv4 = models.CharField(max_length=50, blank=True)  # the host's address with the prefix: 192.168.122.1/24
    ipv6 = models.CharField(max_length=64, blank=True)
    dhcp_ranges = models.JSONField(default=list, blank=True)
    static_hosts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    # Fields the sync writes (virt.networks.NetworkRecord); the rest is identity.
    SYNCED_FIELDS = ("name", "mode", "active", "autostart", "persistent", "bridge", "uplinks", "macvtap_mode",
                     "ipv4", "ipv6", "dhcp_ranges", "static_hosts")

    class Meta:
        ordering = ["name", "host__name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "uuid"], name="network_unique_per_host"),
            models.UniqueConstraint(fields=["host", "name"], name="network_name_unique_per_host"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("networks:network_detail", args=[self.pk])

    @property
    def state(self):
        """For the state badge: running or inactive."""
        return "running" if self.active else "inactive"

    @property
    def has_addresses(self):
        return self.mode in (NetworkMode.NAT, NetworkMode.ROUTE, NetworkMode.OPEN, NetworkMode.ISOLATED)
