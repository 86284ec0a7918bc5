"""What users do to a host, declared once for its page and /api/hosts/ (see core/actions.py)."""
from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import services, tasks


def _refresh_kwargs(host):
    return {"host": host, "host_id": host.pk}


REFRESH = Action("refresh", _("Refresh"), task=tasks.refresh_host, enqueue_kwargs=_refresh_kwargs,
                 icon="arrow-clockwise", message=_("Refreshing %(object)s: job #%(job)s."))
DELETE = Action("delete", _("Remove"), service=services.delete_host, icon="trash",
                message=_("Host %(object)s removed from virtdeck (nothing changed on the host)."))

ACTIONS = (REFRESH,)  # POST routes; DELETE is the delete page and DELETE /api/hosts/<id>/
