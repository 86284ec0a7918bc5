from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from .models import ApiToken


class ReadOnlyTokens(permissions.BasePermission):
    """A read-only token may read, never write: every route, whatever its own permissions say about users."""

    message = _("This token is read-only.")

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken) and request.auth.read_only:
            return request.method in permissions.SAFE_METHODS
        return True
