from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import viewsets

from core.api.views import BaseViewSet

from .. import services
from ..filters import GrantFilterSet, GroupFilterSet, UserFilterSet
from ..models import Grant
from .serializers import GrantSerializer, GroupSerializer, UserSerializer, as_drf_error

# Admins only, through core.permissions like every other route: users, groups and grants are no model of
# access/rules.py's RULES, so anyone else lists nothing, gets 404 for one and 403 for a create.


class UserViewSet(BaseViewSet, viewsets.ModelViewSet):
    """virtdeck's users (admins only). `password` is write-only; an admin cannot delete their own account."""

    queryset = services.users()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet

    def perform_destroy(self, instance):
        try:
            services.delete_user(instance, self.request.user)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None


class GroupViewSet(BaseViewSet, viewsets.ModelViewSet):
    """Groups of users (admins only): a grant to a group applies to each member."""

    queryset = Group.objects.prefetch_related("user_set").order_by("name")
    serializer_class = GroupSerializer
    filterset_class = GroupFilterSet


class GrantViewSet(BaseViewSet, viewsets.ModelViewSet):
    """Grants (admins only): a user or group, a role, and for operator and viewer grants one host or VM."""

    queryset = Grant.objects.select_related("user", "group", "host", "instance")
    serializer_class = GrantSerializer
    filterset_class = GrantFilterSet
