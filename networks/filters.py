import django_filters
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

from core.sorting import SortFilter
from hosts.models import Host
from hosts.filters import HostIdsFilter

from .choices import NetworkMode
from .models import Network


class NetworkFilterSet(django_filters.FilterSet):
    """One filter set for the network list page and /api/networks/."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"), max_length=200)
    host = HostIdsFilter(queryset=Host.objects.all(), label=_("Host"))
    mode = django_filters.MultipleChoiceFilter(choices=NetworkMode.choices, label=_("Mode"))
    ordering = SortFilter(
        fields=(("name", "name"), ("host__name", "host"), ("mode", "mode"), ("active", "active"),
                ("bridge", "bridge"), ("ipv4", "ipv4"), ("dhcp_first", "dhcp"), ("autostart", "autostart")),
        computed={"dhcp_first": KT("dhcp_ranges__0")},  # by the first range, as text on both databases
    )

    class Meta:
        model = Network
        fields = ["host", "mode", "active", "autostart"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(bridge__icontains=value) | Q(ipv4__icontains=value)
                               | Q(ipv6__icontains=value))
