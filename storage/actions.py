"""What users do to pools and volumes, declared once for their pages and /api/storage/ (see core/actions.py)."""
from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import services

START_POOL = Action("start", _("Start"), service=services.start_pool, icon="play-fill",
                    allowed=lambda pool: not pool.is_active)
STOP_POOL = Action("stop", _("Stop"), service=services.stop_pool, icon="stop-fill",
                   allowed=lambda pool: pool.is_active)
REFRESH_POOL = Action("refresh", _("Refresh"), service=services.refresh_pool, icon="arrow-clockwise",
                      allowed=lambda pool: pool.is_active)
# The page's button flips it; the API route takes {"enabled": true|false} (storage/api/views.py).
AUTOSTART_POOL = Action("autostart", _("Toggle autostart"), service=services.toggle_pool_autostart,
                        icon="power", allowed=lambda pool: pool.persistent)
DELETE_POOL = Action("delete", _("Delete"), service=services.delete_pool, icon="trash",
                     message=_("Pool %(object)s deleted."))

POOL_ACTIONS = (START_POOL, STOP_POOL, REFRESH_POOL, AUTOSTART_POOL)

DELETE_VOLUME = Action("delete", _("Delete"), service=services.delete_volume, icon="trash",
                       message=_("Volume %(object)s deleted."))
