"""Why a console websocket closed: one code per reason (RFC 6455 private range 4000-4999), explained on the page.

The consumer closes with the code and its slug as the reason; the console page shows the translated
explanation for the code (console/views.py hands it REFUSALS).
"""
from enum import IntEnum

from django.utils.translation import gettext_lazy as _


class Refusal(IntEnum):
    NO_TICKET = 4400
    NOT_LOGGED_IN = 4401
    OTHER_USER = 4403
    UNKNOWN_TICKET = 4404
    EXPIRED = 4408
    USED = 4409
    OTHER_VM = 4410
    OTHER_KIND = 4411
    NOT_RUNNING = 4412
    NO_DISPLAY = 4413
    INTERNAL = 4500
    UNREACHABLE = 4502
    AUTH_FAILED = 4503
    PROTOCOL = 4504

    @property
    def slug(self):
        return self.name.lower().replace("_", "-")

    @property
    def message(self):
        return MESSAGES[self]


MESSAGES = {
    Refusal.NO_TICKET: _("The connection carried no console ticket. Open the console from its page."),
    Refusal.NOT_LOGGED_IN: _("You are not logged in (or your account was disabled). "
                             "Log in and open the console again."),
    Refusal.OTHER_USER: _("The console ticket belongs to another user than the one logged in here."),
    Refusal.UNKNOWN_TICKET: _("The console ticket is not valid."),
    Refusal.EXPIRED: _("The console ticket expired before it was used (tickets last a few seconds). Reconnect."),
    Refusal.USED: _("The console ticket was already used: every connection needs a fresh one. Reconnect."),
    Refusal.OTHER_VM: _("The console ticket was issued for another VM."),
    Refusal.OTHER_KIND: _("The console ticket was issued for another kind of console (graphical or serial)."),
    Refusal.NOT_RUNNING: _("The VM is not running: start it first."),
    Refusal.NO_DISPLAY: _("The VM has no console of this kind (no VNC display, or no serial console)."),
    Refusal.INTERNAL: _("The console failed on the server (its log says why). Reconnect."),
    Refusal.UNREACHABLE: _("The VM's host or its console could not be reached."),
    Refusal.AUTH_FAILED: _("The host refused the VM's VNC password stored in its definition."),
    Refusal.PROTOCOL: _("The VM's console spoke a protocol virtdeck does not understand."),
}


class Refused(Exception):
    """A console connection is refused for `refusal`; `detail` is for the server log only."""

    def __init__(self, refusal, detail=""):
        super().__init__(refusal.slug)
        self.refusal = refusal
        self.detail = detail
