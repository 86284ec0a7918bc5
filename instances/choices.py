from django.db import models
from django.utils.translation import pgettext_lazy


class InstanceState(models.TextChoices):
    """A VM's state as libvirt reports it (VIR_DOMAIN_*), mapped once in virt.inventory.STATE_NAMES."""

    RUNNING = "running", pgettext_lazy("VM state", "running")
    BLOCKED = "blocked", pgettext_lazy("VM state", "blocked")
    PAUSED = "paused", pgettext_lazy("VM state", "paused")
    SHUTDOWN = "shutdown", pgettext_lazy("VM state", "shutting down")
    SHUTOFF = "shutoff", pgettext_lazy("VM state", "shut off")
    CRASHED = "crashed", pgettext_lazy("VM state", "crashed")
    PMSUSPENDED = "pmsuspended", pgettext_lazy("VM state", "suspended")
    NOSTATE = "nostate", pgettext_lazy("VM state", "no state")


# The spellings stored and accepted before the slugs (`?state=shut off` still filters).
LEGACY_STATES = {"shut off": InstanceState.SHUTOFF, "shutting down": InstanceState.SHUTDOWN,
                 "suspended": InstanceState.PMSUSPENDED, "no state": InstanceState.NOSTATE}
