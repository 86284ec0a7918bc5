from . import health as health_status


def health(request):
    """`health` for the degraded banner of base.html (logged-in pages only; cached, see core.health)."""
    if not request.user.is_authenticated:
        return {}
    return {"health": health_status.cached_status()}
