from django.db import models
from django.urls import reverse

from .choices import ACTIVE_POOL_STATES, POOL_TYPE_CHOICES, PoolState


class StoragePool(models.Model):
    """A storage pool as last seen on its host. Written by the inventory (storage.inventory) only."""

    job_target_kind = "none"  # core's Job has no pool target kind yet; jobs name the pool in target_name

    host = models.ForeignKey("hosts.Host", on_delete=models.CASCADE, related_name="storage_pools")
    uuid = models.UUIDField()
    name = models.CharField(max_length=255, db_index=True)
    type = models.CharField(max_length=20, choices=POOL_TYPE_CHOICES)
    state = models.CharField(max_length=20, choices=PoolState.choices, default=PoolState.INACTIVE, db_index=True)
    autostart = models.BooleanField(default=False)
    persistent = models.BooleanField(default=True)
    capacity = models.BigIntegerField(default=0)  # bytes; 0 while inactive
    allocation = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    target_path = models.CharField(max_length=1024, blank=True)
    source = models.CharField(max_length=1024, blank=True)
    source_format = models.CharField(max_length=50, blank=True)
    # When the volumes were last read (None: never). They are re-read after changes, not on every sync.
    volumes_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    SYNCED_FIELDS = ("name", "type", "state", "autostart", "persistent", "capacity", "allocation", "available",
                     "target_path", "source", "source_format")

    class Meta:
        ordering = ["name", "host__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["host", "uuid"], name="storagepool_unique_per_host")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("storage:storagepool_detail", args=[self.pk])

    @property
    def is_active(self):
        return self.state in ACTIVE_POOL_STATES

    @property
    def used_percent(self):
        return round(100 * self.allocation / self.capacity) if self.capacity else None


class Volume(models.Model):
    """A volume of a pool as last read from its host (see StoragePool.volumes_synced_at)."""

    job_target_kind = "volume"

    pool = models.ForeignKey(StoragePool, on_delete=models.CASCADE, related_name="volumes")
    name = models.CharField(max_length=255, db_index=True)
    key = models.CharField(max_length=1024, blank=True)
    path = models.CharField(max_length=1024, blank=True, db_index=True)
    type = models.CharField(max_length=20, blank=True)  # file, block, dir, network...
    format = models.CharField(max_length=20, blank=True, db_index=True)  # raw, qcow2, iso... ("" for LVs)
    capacity = models.BigIntegerField(default=0)  # what the guest sees
    allocation = models.BigIntegerField(default=0)  # what it takes on the host
    physical = models.BigIntegerField(null=True, blank=True)
    backing_path = models.CharField(max_length=1024, blank=True)
    backing_format = models.CharField(max_length=20, blank=True)
    compat = models.CharField(max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    SYNCED_FIELDS = ("key", "path", "type", "format", "capacity", "allocation", "physical", "backing_path",
                     "backing_format", "compat")

    class Meta:
        ordering = ["name", "pool__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["pool", "name"], name="volume_unique_per_pool")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("storage:volume_detail", args=[self.pk])

    @property
    def host(self):
        return self.pool.host

    @property
    def allocated_percent(self):
        return min(100, round(100 * self.allocation / self.capacity)) if self.capacity else None

    @property
    def is_thin(self):
        """Far less on the host than the guest sees (a sparse file, a qcow2 growing as written)."""
        return self.allocation < self.capacity
