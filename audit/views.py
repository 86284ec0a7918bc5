from core.generic import ObjectListView

from .export import csv_response
from .filters import AuditFilterSet
from .models import AuditEntry


class AuditListView(ObjectListView):
    """Who did what: admins see every entry, everyone else their own (access/rules.py). `?export=csv` downloads
    the filtered entries."""

    queryset = AuditEntry.objects.all()
    filterset_class = AuditFilterSet
    paginate_by = 100

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "csv":
            filterset = self.filterset_class(request.GET, queryset=self.get_queryset())
            return csv_response(filterset.qs if filterset.is_valid() else self.get_queryset().none())
        return super().get(request, *args, **kwargs)
