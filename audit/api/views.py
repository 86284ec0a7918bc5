from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from core.api.views import BaseViewSet

from ..export import csv_response
from ..filters import AuditFilterSet
from ..models import AuditEntry
from .serializers import AuditEntrySerializer

MAX_JSON_EXPORT = 100_000


class AuditEntryViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The audit log (admins see every entry, everyone else their own; read-only: it is append-only).
    The list's filters also apply to `?export=csv` (a CSV download of every matching entry) and `?export=json`
    (one JSON array)."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilterSet

    @extend_schema(parameters=[OpenApiParameter("export", enum=["csv", "json"], required=False)])
    def list(self, request, *args, **kwargs):
        export = request.query_params.get("export")
        if export not in ("csv", "json"):
            return super().list(request, *args, **kwargs)
        entries = self.filter_queryset(self.get_queryset())
        if export == "csv":
            return csv_response(entries)
        response = Response(AuditEntrySerializer(entries[:MAX_JSON_EXPORT], many=True).data)
        response["Content-Disposition"] = 'attachment; filename="virtdeck-audit.json"'
        return response
