from rest_framework import viewsets

from core.api.views import BaseViewSet

from .. import services
from ..actions import ACTIONS, DELETE
from ..filters import HostFilterSet
from ..models import Host
from ..querysets import with_instance_counts
from .serializers import HostDetailSerializer, HostSerializer


class HostViewSet(BaseViewSet, viewsets.ModelViewSet):
    queryset = with_instance_counts(Host.objects.order_by("name"))  # GROUP BY drops Meta.ordering
    filterset_class = HostFilterSet
    object_actions = ACTIONS
    delete_action = DELETE

    def get_serializer_class(self):
        return HostDetailSerializer if self.action == "retrieve" else HostSerializer

    def perform_create(self, serializer):
        # Connect first: nothing is saved if libvirt refuses (its message becomes the 4xx/503 detail).
        host = Host(**serializer.validated_data)
        services.create_host(host)
        serializer.instance = self.get_queryset().get(pk=host.pk)  # with its instance counts

    def perform_update(self, serializer):
        host = serializer.instance
        changed = [k for k, v in serializer.validated_data.items() if getattr(host, k) != v]
        for key, value in serializer.validated_data.items():
            if key in Host.SECRET_FIELDS and not value:
                continue  # empty secret on update keeps the stored one
            setattr(host, key, value)
        services.update_host(host, changed)
