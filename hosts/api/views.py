from drf_spectacular.utils import extend_schema
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter

from core.api.serializers import JobSerializer
from core.api.views import accepted
from core.jobs import enqueue

from .. import services, tasks
from ..models import Host
from ..querysets import with_instance_counts
from .serializers import HostDetailSerializer, HostSerializer


class HostViewSet(viewsets.ModelViewSet):
    queryset = with_instance_counts(Host.objects.all())
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_fields = ["state"]
    search_fields = ["name", "uri", "description"]
    ordering_fields = ["name", "state", "latency_ms"]

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

    def perform_destroy(self, instance):
        services.delete_host(instance)

    @extend_schema(request=None, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        host = self.get_object()
        job = enqueue(tasks.refresh_host, user=request.user, target=host, host=host, host_id=host.pk)
        return accepted(request, job)
