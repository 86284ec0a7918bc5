"""Slugs stored for pools and volumes, with translated labels (virt.storage reports the same slugs)."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from virt.xml.storage import POOL_TYPES


class PoolState(models.TextChoices):
    INACTIVE = "inactive", _("inactive")
    BUILDING = "building", _("building")
    RUNNING = "running", _("running")
    DEGRADED = "degraded", _("degraded")
    INACCESSIBLE = "inaccessible", _("inaccessible")


ACTIVE_POOL_STATES = (PoolState.RUNNING, PoolState.DEGRADED)

# Every type libvirt knows, in virt/xml/pool_types.py's order; what a host supports comes from the host.
POOL_TYPE_CHOICES = [(name, name) for name in POOL_TYPES]


class Allocation(models.TextChoices):
    """How much of a new volume is written up front (virt.volumes.ALLOCATIONS)."""

    THIN = "thin", _("thin (sparse: space is taken as data is written)")
    THICK = "thick", _("thick (all of it preallocated)")
    METADATA = "metadata", _("qcow2 metadata preallocated (still sparse, faster first writes)")
