from rest_framework import viewsets

from core.api.views import BaseViewSet
from hosts.querysets import for_rows

from .. import totals
from ..filters import InstanceFilterSet
from ..models import Instance
from .lifecycle import InstanceLifecycleMixin
from .serializers import InstanceDetailSerializer, InstanceSerializer
from .wizard import InstanceCreationMixin


class InstanceViewSet(InstanceLifecycleMixin, BaseViewSet, InstanceCreationMixin, viewsets.ReadOnlyModelViewSet):
    """The inventory. Lists never call libvirt; one instance reads its live configuration."""

    queryset = Instance.objects.select_related("host")
    filterset_class = InstanceFilterSet

    def get_queryset(self):
        queryset = super().get_queryset()
        return for_rows(queryset) if self.action == "list" else queryset

    def known_count(self):
        """The list's row count without a COUNT where it is every VM (core.api.pagination, instances.totals)."""
        filterset = self.filterset_class(self.request.query_params, queryset=Instance.objects.none(),
                                         request=self.request)
        return totals.known_count(self.request.user, filterset)

    def get_serializer_class(self):
        return InstanceDetailSerializer if self.action == "retrieve" else InstanceSerializer
