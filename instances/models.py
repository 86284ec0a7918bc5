from django.db import models
from django.urls import reverse

from core.reverse import reverse_pk
from core.validators import no_control_characters
from virt import inventory as virt_inventory

from .choices import InstanceState


class Instance(models.Model):
    """A VM as last seen on its host. Written by inventory sync and events only."""

    job_target_kind = "instance"

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="instances")
    uuid = models.UUIDField()
    name = models.CharField(max_length=200, db_index=True)
    state = models.CharField(max_length=20, choices=InstanceState.choices, default=InstanceState.NOSTATE, db_index=True)
    vcpus = models.PositiveIntegerField(default=0)
    memory_kib = models.BigIntegerField(default=0)
    max_memory_kib = models.BigIntegerField(default=0)
    autostart = models.BooleanField(default=False)
    persistent = models.BooleanField(default=True)
    # None: the host's driver reports no CPU time (libvirt's test driver, see virt.inventory).
    cpu_time_ns = models.BigIntegerField(default=0, null=True, blank=True)
    disk_read_bytes = models.BigIntegerField(default=0)
    disk_write_bytes = models.BigIntegerField(default=0)
    net_rx_bytes = models.BigIntegerField(default=0)
    net_tx_bytes = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    # Fields the sync writes; the rest is identity.
    SYNCED_FIELDS = ("name", "state", "vcpus", "memory_kib", "max_memory_kib", "autostart", "persistent",
                     "cpu_time_ns", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes")

    class Meta:
        # Name, then pk (not the host's name, across a join): a page of the list reads an index, not every row.
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["host", "uuid"], name="instance_unique_per_host")]
        indexes = [
            # One per sortable column of the list (core/sorting.py: ORDER BY col, pk), so that a page of 100
            # costs the same at 50,000 VMs as at 5,000 (bench/fleet.py); pk in them for PostgreSQL. cpu_time_ns
            # and updated_at too, though every sync rewrites them on each running VM: without them a page sorted
            # by them sorted the whole table (15-20 ms at 50,000 VMs on SQLite, 40 ms on PostgreSQL); with them,
            # the sync's UPDATE costs more (bench/README.md, "Fleet at 50,000 VMs"). PostgreSQL has one more
            # for cpu_time_ns, DESC NULLS LAST, which SQLite cannot declare (migration 0006).
            *(models.Index(fields=[field, "id"], name=f"instance_{field}_sort") for field in
              ("name", "state", "vcpus", "memory_kib", "autostart", "cpu_time_ns", "updated_at")),
            # The dashboard's counts and sums by host and state (dashboard.queries.vm_totals), read from the index
            # alone; its prefix serves every "VMs of this host" query.
            models.Index(fields=["host", "state", "vcpus", "memory_kib"], name="instance_host_state_totals"),
        ]

    def __str__(self):
        return self.name

    @property
    def state_label(self):
        """get_state_display() for lists: an enum lookup, where Django's builds and hashes every lazy choice
        label on each call (a quarter of the instance list's rendering at 100 rows)."""
        try:
            return InstanceState(self.state).label
        except ValueError:
            return self.state

    def get_absolute_url(self):
        return reverse_pk("instances:instance_detail", self.pk)

    @property
    def memory_mib(self):
        return self.memory_kib // 1024

    @property
    def is_active(self):
        return self.state in virt_inventory.ACTIVE_STATES


class InstanceDisk(models.Model):
    """A disk of a VM as its host's block stats last reported it (virt.inventory's `disks`): what the volume list
    reads to show which VMs use a volume, by path, in one query. The sync rewrites a VM's disks only when they
    changed. A volume's own page and its delete check read the domains' XML live instead."""

    # No index of its own: the unique (instance, target) one starts with it.
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="disks", db_index=False)
    target = models.CharField(max_length=64)  # the guest's device name: vda, sdb...
    path = models.CharField(max_length=1024, db_index=True)

    class Meta:
        ordering = ["instance_id", "target"]  # the id: "instance" would sort by (and join) the VM's name
        constraints = [models.UniqueConstraint(fields=["instance", "target"], name="instancedisk_unique_target")]

    def __str__(self):
        return f"{self.target}: {self.path}"


class HostStateTotals(models.Model):
    """How many of a host's VMs are in one state, with their vCPUs and memory: what an admin's dashboard reads
    (a few rows per host) instead of summing every VM row, which grew with the fleet (15 ms of 50 on PostgreSQL
    at 50,000 VMs). instances.totals.refresh rewrites a host's rows wherever its VMs appear, go, move or change
    state or size."""

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="+", db_index=False)
    state = models.CharField(max_length=20, choices=InstanceState.choices)
    count = models.PositiveIntegerField()
    vcpus = models.BigIntegerField()
    memory_kib = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "state"], name="hoststatetotals_unique_state")]

    def __str__(self):
        return f"{self.host_id} {self.state}: {self.count}"


class InstanceTemplate(models.Model):
    """Saved answers of the creation wizard (instances/builder.py TEMPLATE_FIELDS): create from it in one step."""

    name = models.CharField(max_length=200, unique=True, validators=[no_control_characters])
    description = models.CharField(max_length=500, blank=True, validators=[no_control_characters])
    answers = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("instances:instancetemplate_list")
