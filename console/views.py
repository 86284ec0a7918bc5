from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View
from django.views.generic.detail import SingleObjectMixin

from core.generic import ObjectDetailView
from core.permissions import RestrictedQuerysetMixin
from instances.models import Instance
from virt.errors import VirtError

from . import services
from .refusals import Refusal


# Key combinations the toolbar offers besides Ctrl+Alt+Del: noVNC keysym names (core/input/keysym.js), pressed
# in order and released in reverse.
KEY_COMBOS = [
    ("XK_Control_L XK_Alt_L XK_BackSpace", gettext_lazy("Ctrl+Alt+Backspace")),
    *((f"XK_Control_L XK_Alt_L XK_F{n}", gettext_lazy("Ctrl+Alt+F%(n)d") % {"n": n}) for n in range(1, 8)),
    ("XK_Alt_L XK_Tab", gettext_lazy("Alt+Tab")),
    ("XK_Alt_L XK_F4", gettext_lazy("Alt+F4")),
    ("XK_Super_L", gettext_lazy("Windows key")),
    ("XK_Print", gettext_lazy("Print Screen")),
    ("XK_Escape", gettext_lazy("Escape")),
]


def console_config(instance, kind):
    """What the page's script needs: where to get tickets, and the explanation of every close code."""
    return {
        "kind": kind,
        "ticket_url": reverse("api-instance-console", args=[instance.pk]),
        "refusals": {str(refusal.value): str(refusal.message) for refusal in Refusal},
        "messages": {
            "connecting": _("connecting"), "connected": _("connected"), "closed": _("disconnected"),
            "ticket_failed": _("Could not get a console ticket: %(reason)s"),
            "lost": _("The connection was lost. Reconnect to try again."),
            "clipboard_sent": _("Sent to the VM's clipboard."),
        },
    }


class ConsoleView(ObjectDetailView):
    """The graphical console (noVNC); the page fetches a ticket from the API for every connection."""

    queryset = Instance.objects.select_related("host")
    read_action = "console"  # access/rules.py: an operator grant with `console`, even to look
    template_name = "console/console.html"
    kind = "vnc"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["kind"] = self.kind
        context["console_config"] = console_config(self.object, self.kind)
        context["key_combos"] = KEY_COMBOS
        return context


class SerialConsoleView(ConsoleView):
    """The serial console (xterm.js)."""

    template_name = "console/serial.html"
    kind = "serial"


class ScreenshotView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """The VM's screen as a PNG download (libvirt's screenshot stream)."""
    read_action = "console"  # access/rules.py: an operator grant with `console`, even to look

    model = Instance
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        instance = self.get_object()
        try:
            png = services.screenshot_png(instance)
        except VirtError as exc:
            return HttpResponse(_("No screenshot: %(reason)s") % {"reason": exc.message}, status=409,
                                content_type="text/plain; charset=utf-8")
        response = HttpResponse(png, content_type="image/png")
        response["Content-Disposition"] = content_disposition_header(False, f"{instance.name}.png")
        response["Cache-Control"] = "no-store"
        return response
