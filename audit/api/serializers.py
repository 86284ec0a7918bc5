from rest_framework import serializers

from ..models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "time", "username", "address", "source", "method", "action", "path", "target", "params",
                  "status", "result", "job_id", "detail"]
        read_only_fields = fields
