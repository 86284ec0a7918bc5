from django.utils.translation import gettext as _
from rest_framework import serializers

from hosts.models import Host
from instances.models import Instance
from virt.xml.storage import POOL_TYPES, VOLUME_FORMATS

from ..choices import POOL_TYPE_CHOICES, Allocation
from ..forms import INTEGER_FIELDS, POOL_FIELD_LABELS
from ..models import StoragePool, Volume


class IdField(serializers.PrimaryKeyRelatedField):
    """A related object's id; one past 64 bits is 'does not exist', not a database overflow."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)) or not str(data).lstrip("-").isdigit() \
                or not -(2**63) <= int(data) < 2**63:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class PoolSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-storage:storagepool-detail")
    host_name = serializers.CharField(source="host.name", read_only=True)

    class Meta:
        model = StoragePool
        fields = ["id", "url", "host", "host_name", "uuid", "name", "type", "state", "autostart", "persistent",
                  "capacity", "allocation", "available", "target_path", "source", "source_format",
                  "volumes_synced_at", "updated_at"]
        read_only_fields = fields


def _pool_field(name):
    label = str(POOL_FIELD_LABELS[name])
    if name in INTEGER_FIELDS:
        return serializers.IntegerField(required=False, help_text=label)
    if name == "source_devices":
        return serializers.ListField(child=serializers.CharField(max_length=1024), required=False, max_length=64,
                                     help_text=label)
    return serializers.CharField(required=False, allow_blank=True, max_length=1024, help_text=label)


class PoolCreateSerializer(serializers.Serializer):
    """A new pool: `type` says which of the other fields it needs (virt/xml/pool_types.py)."""

    host = IdField(queryset=Host.objects.all())
    name = serializers.CharField(max_length=240)
    type = serializers.ChoiceField(choices=POOL_TYPE_CHOICES)
    build = serializers.BooleanField(default=True)
    start = serializers.BooleanField(default=True)
    autostart = serializers.BooleanField(default=False)

    def get_fields(self):
        return {**super().get_fields(), **{name: _pool_field(name) for name in POOL_FIELD_LABELS}}

    def pool_fields(self):
        return {name: self.validated_data[name] for name in POOL_FIELD_LABELS if name in self.validated_data}

    def validate(self, attrs):
        spec = POOL_TYPES[attrs["type"]]
        given = {name for name in POOL_FIELD_LABELS if attrs.get(name) not in (None, "", [])}
        extra = sorted(given - set(spec.fields))
        if extra:
            raise serializers.ValidationError({name: _("A %(type)s pool does not take %(field)s.")
                                               % {"type": spec.name, "field": name} for name in extra})
        missing = [name for name in spec.required if name not in given]
        if missing:
            raise serializers.ValidationError({name: _("A %(type)s pool needs %(field)s.")
                                               % {"type": spec.name, "field": name} for name in missing})
        return attrs


class PoolAutostartSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


class SyncedUserSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-instances:instance-detail")

    class Meta:
        model = Instance
        fields = ["id", "url", "name"]
        read_only_fields = fields


class VolumeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-storage:volume-detail")
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    host = serializers.IntegerField(source="pool.host_id", read_only=True)
    thin = serializers.BooleanField(source="is_thin", read_only=True)
    # Set by storage.services.attach_synced_users, for a whole page in one query.
    used_by = SyncedUserSerializer(source="synced_users", many=True, read_only=True,
                                   help_text="the VMs whose disks were on this path at their host's last sync; "
                                             "DELETE asks the host itself")

    class Meta:
        model = Volume
        fields = ["id", "url", "pool", "pool_name", "host", "name", "key", "path", "type", "format", "capacity",
                  "allocation", "physical", "thin", "backing_path", "backing_format", "compat", "used_by",
                  "updated_at"]
        read_only_fields = fields


class VolumeCreateSerializer(serializers.Serializer):
    pool = IdField(queryset=StoragePool.objects.all())
    name = serializers.CharField(max_length=240, trim_whitespace=False)
    capacity = serializers.IntegerField(help_text="bytes")
    format = serializers.ChoiceField(choices=VOLUME_FORMATS, default="raw")
    allocation = serializers.ChoiceField(choices=Allocation.choices, default=Allocation.THIN)


class VolumeResizeSerializer(serializers.Serializer):
    capacity = serializers.IntegerField(help_text="bytes")
    shrink = serializers.BooleanField(default=False, help_text="must be true to make the volume smaller")


class VolumeCloneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=240, trim_whitespace=False)
    pool = IdField(queryset=StoragePool.objects.all(), required=False, help_text="default: the source's pool")
    format = serializers.ChoiceField(choices=VOLUME_FORMATS, required=False, help_text="default: the source's")
    allocation = serializers.ChoiceField(choices=Allocation.choices, default=Allocation.THIN)


class VolumeConvertSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=VOLUME_FORMATS)
    allocation = serializers.ChoiceField(choices=Allocation.choices, default=Allocation.THIN)
    name = serializers.CharField(max_length=240, trim_whitespace=False, required=False,
                                 help_text="default: the source's name with the new format's suffix")
    pool = IdField(queryset=StoragePool.objects.all(), required=False, help_text="default: the source's pool")
    instance = IdField(queryset=Instance.objects.all(), required=False,
                       help_text="a shut-off VM whose disk is the source: it uses the converted volume afterwards")
