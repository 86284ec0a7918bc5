from rest_framework import serializers

from ..models import Instance
from ..services import read_details


class InstanceSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-instances:instance-detail")
    host_name = serializers.CharField(source="host.name", read_only=True)

    class Meta:
        model = Instance
        fields = ["id", "url", "host", "host_name", "uuid", "name", "state", "vcpus", "memory_kib",
                  "max_memory_kib", "autostart", "persistent", "cpu_time_ns", "disk_read_bytes",
                  "disk_write_bytes", "net_rx_bytes", "net_tx_bytes", "updated_at"]
        read_only_fields = fields


class InstanceDetailSerializer(InstanceSerializer):
    """Adds the live configuration read from the host (null with `details_error` if it is down)."""

    details = serializers.SerializerMethodField()
    details_error = serializers.SerializerMethodField()

    class Meta(InstanceSerializer.Meta):
        fields = [*InstanceSerializer.Meta.fields, "details", "details_error"]
        read_only_fields = fields

    def _details(self, obj):
        if not hasattr(obj, "_details_cache"):
            obj._details_cache = read_details(obj)
        return obj._details_cache

    def get_details(self, obj) -> dict | None:
        return self._details(obj)["summary"]

    def get_details_error(self, obj) -> str:
        return self._details(obj)["error"]
