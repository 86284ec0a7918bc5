from rest_framework import viewsets

from ..filters import InstanceFilterSet
from ..models import Instance
from .serializers import InstanceDetailSerializer, InstanceSerializer


class InstanceViewSet(viewsets.ReadOnlyModelViewSet):
    """The inventory. Lists never call libvirt; one instance reads its live configuration."""

    queryset = Instance.objects.select_related("host")
    filterset_class = InstanceFilterSet

    def get_serializer_class(self):
        return InstanceDetailSerializer if self.action == "retrieve" else InstanceSerializer
