from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import restrict
from hosts.models import Host
from instances.models import Instance

from .. import store
from ..frames import VM_FIELDS


def _query(request):
    """?range= (hour, day, week, quarter; hour by default) and ?since= (epoch seconds: only newer points)."""
    range_name = request.query_params.get("range", "hour")
    if range_name not in store.RANGES:
        raise ValidationError({"range": [_("Choose one of: %s.") % ", ".join(store.RANGES)]})
    since = request.query_params.get("since")
    if since is not None:
        if not (since.isascii() and since.isdigit() and len(since) <= 12):
            raise ValidationError({"since": [_("A time in whole seconds since 1970.")]})
        since = int(since)
    return range_name, since


def _answer(range_name, fields, points):
    step, span = store.RANGES[range_name]
    return Response({"range": range_name, "step": step or int(store.interval()), "span": span,
                     "fields": ["ts", *fields], "points": points})


class HostSeriesView(APIView):
    """A host's CPU % and memory (used, total KiB) over the last hour, day, week or quarter."""

    @extend_schema(responses=OpenApiTypes.OBJECT)  # a series frame (metrics.store), not a model
    def get(self, request, pk):
        host = get_object_or_404(restrict(Host.objects.only("id"), request.user), pk=pk)
        range_name, since = _query(request)
        return _answer(range_name, store.HOST_FIELDS, store.host_series(host.pk, range_name, since))


class InstanceSeriesView(APIView):
    """A VM's CPU % (of its vCPUs), memory (its QEMU process's RSS, KiB) and disk and network bytes/s."""

    @extend_schema(responses=OpenApiTypes.OBJECT)  # a series frame (metrics.store), not a model
    def get(self, request, pk):
        instance = get_object_or_404(restrict(Instance.objects.only("id", "host_id"), request.user), pk=pk)
        range_name, since = _query(request)
        series = store.vm_series(instance.host_id, instance.pk, range_name, since)
        return _answer(range_name, VM_FIELDS, [[ts, *(values[f] for f in VM_FIELDS)] for ts, values in series])
