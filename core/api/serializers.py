from rest_framework import serializers

from core.models import Job


class JobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-core:job-detail")
    user = serializers.CharField(source="user.username", default=None, read_only=True)

    class Meta:
        model = Job
        fields = ["id", "url", "kind", "target_kind", "target_id", "target_name", "host", "status", "progress",
                  "log", "params", "result", "error", "user", "created", "started", "finished",
                  "celery_task_id", "cancel_requested"]
        read_only_fields = fields


class ComponentHealthSerializer(serializers.Serializer):
    up = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True, help_text="Last heartbeat (null for Redis)")


class HealthSerializer(serializers.Serializer):
    degraded = serializers.BooleanField(help_text="True while any component is down")
    components = serializers.DictField(child=ComponentHealthSerializer(),
                                       help_text="redis, worker, inventory, beat, watcher")
