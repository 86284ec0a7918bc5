from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.serializers import JobSerializer
from core.api.views import BaseViewSet, accepted

from .. import services
from ..actions import POOL_ACTIONS
from ..filters import PoolFilterSet, VolumeFilterSet
from ..models import StoragePool, Volume
from .serializers import (PoolAutostartSerializer, PoolCreateSerializer, PoolSerializer, VolumeCloneSerializer,
                          VolumeConvertSerializer, VolumeCreateSerializer, VolumeResizeSerializer, VolumeSerializer)


def _flag(request, name):
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise serializers.ValidationError({name: _("expected true or false.")})
    return value in ("true", "1")


class _NoFormatQuery:
    """DRF's settings, except that `?format=` is not a renderer choice: here it filters volumes by format."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class VolumeContentNegotiation(DefaultContentNegotiation):
    settings = _NoFormatQuery()


class PoolViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.DestroyModelMixin):
    """Storage pools. Lists read the inventory; writes go to the host and store what it reports."""

    queryset = StoragePool.objects.select_related("host")
    filterset_class = PoolFilterSet
    object_actions = [action for action in POOL_ACTIONS if action.name != "autostart"]

    def get_serializer_class(self):
        return {"create": PoolCreateSerializer, "autostart": PoolAutostartSerializer}.get(self.action, PoolSerializer)

    @extend_schema(responses={201: PoolSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pool = services.create_pool(data["host"], data["type"], data["name"], serializer.pool_fields(),
                                    build=data["build"], start=data["start"], autostart=data["autostart"])
        return Response(PoolSerializer(pool, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("delete_storage", bool, description="also delete the (empty) "
                                                "directory or volume group, where the pool type allows")])
    def destroy(self, request, *args, **kwargs):
        services.delete_pool(self.get_object(), delete_storage=_flag(request, "delete_storage"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PoolAutostartSerializer, responses=PoolSerializer)
    @action(detail=True, methods=["post"])
    def autostart(self, request, pk=None):
        """Start the pool when the host boots, or not: {"enabled": true|false}."""
        serializer = PoolAutostartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pool = services.set_pool_autostart(self.get_object(), serializer.validated_data["enabled"])
        return Response(PoolSerializer(pool, context=self.get_serializer_context()).data)


class VolumeViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, mixins.DestroyModelMixin):
    """Volumes. PATCH resizes (capacity in bytes); DELETE is refused while a VM uses the volume."""

    queryset = Volume.objects.select_related("pool__host")
    filterset_class = VolumeFilterSet
    content_negotiation_class = VolumeContentNegotiation
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return {"create": VolumeCreateSerializer, "partial_update": VolumeResizeSerializer,
                "clone": VolumeCloneSerializer, "convert": VolumeConvertSerializer}.get(self.action, VolumeSerializer)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else services.attach_synced_users(page, self.request.user)

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    def _answer(self, volume, code=status.HTTP_200_OK):
        services.attach_synced_users([volume], self.request.user)
        return Response(VolumeSerializer(volume, context=self.get_serializer_context()).data, status=code)

    @extend_schema(responses={201: VolumeSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        volume = services.create_volume(data["pool"], data["name"], data["capacity"], data["format"],
                                        data["allocation"])
        return self._answer(volume, status.HTTP_201_CREATED)

    @extend_schema(responses=VolumeSerializer)
    def partial_update(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return self._answer(services.resize_volume(self.get_object(), data["capacity"], shrink=data["shrink"]))

    def destroy(self, request, *args, **kwargs):
        services.delete_volume(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=VolumeCloneSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        """Copy the volume into a new one in the same or another pool of its host: 202 and the job."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.clone_volume(self.get_object(), data["name"], target_pool=data.get("pool"),
                                    volume_format=data.get("format"), allocation=data["allocation"],
                                    user=request.user)
        return accepted(request, job)

    @extend_schema(request=VolumeConvertSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        """Convert the volume (raw <-> qcow2, thin <-> thick) into a new one: 202 and the job. The source stays."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.convert_volume(self.get_object(), data["format"], data["allocation"], name=data.get("name"),
                                      target_pool=data.get("pool"), instance=data.get("instance"), user=request.user)
        return accepted(request, job)
