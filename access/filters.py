import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Grant, Role


class UserFilterSet(django_filters.FilterSet):
    """One filter set for the users page and /api/users/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=150)
    ordering = django_filters.OrderingFilter(fields=(("username", "username"), ("last_login", "last_login")))

    class Meta:
        model = get_user_model()
        fields = ["is_active", "groups"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value)) if value.strip() else queryset


class GroupFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"), max_length=150)
    ordering = django_filters.OrderingFilter(fields=(("name", "name"),))

    class Meta:
        model = Group
        fields = []


class GrantFilterSet(django_filters.FilterSet):
    """One filter set for the grants page and /api/grants/."""

    role = django_filters.ChoiceFilter(choices=Role.choices)
    ordering = django_filters.OrderingFilter(fields=(("created", "created"), ("role", "role")))

    class Meta:
        model = Grant
        fields = ["user", "group", "role", "host", "instance"]
