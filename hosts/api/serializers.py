from rest_framework import serializers

from core.validators import CREDENTIAL_MAX

from virt import uri as virt_uri

from ..models import Host, parse_host_uri


class HostSerializer(serializers.ModelSerializer):
    """Credentials are write-only; `has_<secret>` says whether one is stored."""

    url = serializers.HyperlinkedIdentityField(view_name="api-hosts:host-detail")
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=CREDENTIAL_MAX,
                                     style={"input_type": "password"})
    ssh_private_key = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                            max_length=CREDENTIAL_MAX)
    tls_client_key = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                           max_length=CREDENTIAL_MAX)
    has_password = serializers.SerializerMethodField()
    has_ssh_private_key = serializers.SerializerMethodField()
    has_tls_client_key = serializers.SerializerMethodField()
    vm_count = serializers.IntegerField(read_only=True, default=None)
    running_count = serializers.IntegerField(read_only=True, default=None)
    stale = serializers.BooleanField(read_only=True, help_text="No sync lately: `state` may be out of date")

    class Meta:
        model = Host
        fields = ["id", "url", "name", "uri", "description", "migration_address", "username",
                  "password", "ssh_private_key", "ssh_known_hosts", "tls_ca_cert", "tls_client_cert",
                  "tls_client_key", "has_password", "has_ssh_private_key", "has_tls_client_key",
                  "state", "stale", "last_error", "latency_ms", "last_seen", "last_sync", "vm_count", "running_count",
                  "memory_total_kib", "memory_free_kib", "cpu_percent", "facts", "created"]
        read_only_fields = ["state", "last_error", "latency_ms", "last_seen", "last_sync", "memory_total_kib",
                            "memory_free_kib", "cpu_percent", "facts", "created"]

    def get_has_password(self, obj) -> bool:
        return bool(obj.password)

    def get_has_ssh_private_key(self, obj) -> bool:
        return bool(obj.ssh_private_key)

    def get_has_tls_client_key(self, obj) -> bool:
        return bool(obj.tls_client_key)

    def validate_uri(self, value):
        try:
            return str(parse_host_uri(value))
        except virt_uri.URIError as exc:
            raise serializers.ValidationError(str(exc)) from None


class HostDetailSerializer(HostSerializer):
    capabilities_xml = serializers.CharField(read_only=True)

    class Meta(HostSerializer.Meta):
        fields = [*HostSerializer.Meta.fields, "capabilities_xml"]
