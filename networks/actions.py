"""What users do to a network, declared once for its page and /api/networks/ (see core/actions.py)."""
from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import services

START = Action("start", _("Start"), service=services.start_network, icon="play-fill",
               allowed=lambda network: not network.active, message=_("Network %(object)s started."))
STOP = Action("stop", _("Stop"), service=services.stop_network, icon="stop-fill",
              allowed=lambda network: network.active,
              message=_("Network %(object)s stopped: its bridge, DHCP and firewall rules are gone until it starts."))
AUTOSTART_ON = Action("autostart", _("Autostart on"), service=services.enable_autostart, icon="arrow-repeat",
                      allowed=lambda network: network.persistent and not network.autostart,
                      message=_("Network %(object)s now starts with the host."))
AUTOSTART_OFF = Action("no-autostart", _("Autostart off"), service=services.disable_autostart, icon="slash-circle",
                       allowed=lambda network: network.persistent and network.autostart,
                       message=_("Network %(object)s no longer starts with the host."))
DELETE = Action("delete", _("Delete"), service=services.delete_network, icon="trash",
                message=_("Network %(object)s stopped and removed from its host."))

ACTIONS = (START, STOP, AUTOSTART_ON, AUTOSTART_OFF)  # POST routes; DELETE is the delete page and DELETE /api/
