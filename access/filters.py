import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Case, Count, IntegerField, Min, Q, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from core.sorting import SortFilter

from .models import CAPABILITIES, Grant, Role


class UserFilterSet(django_filters.FilterSet):
    """One filter set for the users page and /api/users/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=150)
    ordering = SortFilter(
        fields=(("username", "username"), ("email", "email"), ("first_group", "groups"), ("is_active", "status"),
                ("last_login", "last_login")),
        computed={"first_group": Min("groups__name")},  # the page lists a user's groups by name
    )

    class Meta:
        model = get_user_model()
        fields = ["is_active", "groups"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value)) if value.strip() else queryset


class GroupFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"), max_length=150)
    ordering = SortFilter(fields=(("name", "name"), ("member_count", "members")),
                          computed={"member_count": Count("user")})

    class Meta:
        model = Group
        fields = []


class GrantFilterSet(django_filters.FilterSet):
    """One filter set for the grants page and /api/grants/."""

    role = django_filters.ChoiceFilter(choices=Role.choices)
    ordering = SortFilter(
        fields=(("created", "created"), ("who", "who"), ("role", "role"), ("on", "on"),
                ("action_count", "actions")),
        # The page's columns: who (a user or a group), on what (a VM, a host; an admin grant's "everything"
        # last), and how many actions the grant allows (Grant.allowed_actions).
        computed={"who": Coalesce("user__username", "group__name"), "on": Coalesce("instance__name", "host__name"),
                  "action_count": Case(When(role=Role.ADMIN, then=Value(len(CAPABILITIES))),
                                       When(role=Role.VIEWER, then=Value(0)),
                                       default=sum(Cast(name, IntegerField()) for name in CAPABILITIES))},
    )

    class Meta:
        model = Grant
        fields = ["user", "group", "role", "host", "instance"]
