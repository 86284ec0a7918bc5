from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.views import BaseViewSet

from ..export import csv_response
from ..filters import AuditFilterSet
from ..models import AuditEntry
from .serializers import AuditEntrySerializer

MAX_JSON_EXPORT = 100_000


class AuditEntryViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The audit log (admins only; read-only: it is append-only). The list's filters also apply to the exports:
    `export/csv/` (a CSV download of every matching entry) and `export/json/` (one JSON array)."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilterSet
    permission_classes = [permissions.IsAdminUser]

    def _matching(self):
        return self.filter_queryset(self.get_queryset())

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, url_path="export/csv", pagination_class=None)
    def export_csv(self, request):
        return csv_response(self._matching())

    @extend_schema(responses=AuditEntrySerializer(many=True))
    @action(detail=False, url_path="export/json", pagination_class=None)
    def export_json(self, request):
        response = Response(AuditEntrySerializer(self._matching()[:MAX_JSON_EXPORT], many=True).data)
        response["Content-Disposition"] = 'attachment; filename="virtdeck-audit.json"'
        return response
