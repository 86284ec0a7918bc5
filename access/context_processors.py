from .rules import is_admin


def roles(request):
    """`is_admin` for templates: the admin-only links (Access) and how the audit link reads."""
    user = getattr(request, "user", None)
    return {"is_admin": bool(user is not None and is_admin(user))}
