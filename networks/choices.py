from django.db import models
from django.utils.translation import gettext_lazy as _


class NetworkMode(models.TextChoices):
    """virt.xml.network.MODES, with the words the pages use."""

    NAT = "nat", _("NAT")
    ROUTE = "route", _("Routed")
    OPEN = "open", _("Open")
    ISOLATED = "isolated", _("Isolated")
    BRIDGE = "bridge", _("Host bridge")
    MACVTAP = "macvtap", _("macvtap (direct)")
    HOSTDEV = "hostdev", _("SR-IOV (hostdev)")


class MacvtapMode(models.TextChoices):
    BRIDGE = "bridge", _("bridge: guests on the same NIC reach each other")
    PRIVATE = "private", _("private: guests cannot reach each other")
    VEPA = "vepa", _("VEPA: traffic goes through the external switch")
    PASSTHROUGH = "passthrough", _("passthrough: one guest owns the NIC")
