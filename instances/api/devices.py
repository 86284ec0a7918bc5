"""/api/instances/{id}/disks/, /nics/ and /config/: a VM's hardware, read from its host and changed.

The serializers here also validate the hardware page's forms (instances/hardware_views.py), and both call
instances/devices.py: the page and the API cannot drift. Answers list what changed, each with `live`
(false: it applies at the next boot).
"""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.views import ObjectAPIView
from virt.disk_changes import CACHE_MODES, DISK_BUSES
from virt.hardware import AFFECT_CHOICES, BOOT_DEVICES, NIC_MODELS, NIC_TYPES
from virt.names import NAME_PROBLEMS, name_problem
from virt.volumes import ALLOCATIONS
from virt.xml.cpu import CPU_MODES
from virt.xml.storage import MAX_VOLUME_BYTES, VOLUME_FORMATS

from .. import devices
from ..models import Instance

MAX_SIZE_MIB = MAX_VOLUME_BYTES // devices.BYTES_IN_MIB
# Far above any host; the host's own limits are checked against libvirt (virt.hardware.check_counts).
MAX_VCPUS = 4096
MAX_MEMORY_MIB = 1 << 30


def _optional(field_class, **kwargs):
    return field_class(required=False, **kwargs)


def _affect():
    return _optional(serializers.ChoiceField, choices=AFFECT_CHOICES, help_text=_(
        "Where the change goes: live, config or both; default: both for a running VM, config for a shut-off one"))


class DiskAttachSerializer(serializers.Serializer):
    """One of: a new volume (pool, name, size_mib, format, allocation), an existing one (pool, volume), a path."""

    pool = _optional(serializers.CharField, max_length=240)
    name = _optional(serializers.CharField, max_length=240, trim_whitespace=False,
                     help_text=_("New volume: its name in the pool"))
    size_mib = _optional(serializers.IntegerField, min_value=1, max_value=MAX_SIZE_MIB,
                         help_text=_("New volume: its size in MiB"))
    format = serializers.ChoiceField(VOLUME_FORMATS, default="qcow2")
    allocation = serializers.ChoiceField(ALLOCATIONS, default="thin")
    volume = _optional(serializers.CharField, max_length=240, help_text=_("Existing volume of `pool`"))
    path = _optional(serializers.CharField, max_length=4096, help_text=_("Existing volume, by its path"))
    device = serializers.ChoiceField(("disk", "cdrom"), default="disk")
    target = _optional(serializers.CharField, max_length=8, help_text=_("vdb, sdb, ...; empty: the next free one"))
    bus = _optional(serializers.ChoiceField, choices=DISK_BUSES)
    cache = serializers.ChoiceField(CACHE_MODES, default="default")
    affect = _affect()

    def validate_name(self, value):
        problem = name_problem(value)
        if problem:
            raise serializers.ValidationError(NAME_PROBLEMS[problem])
        return value

    def validate(self, data):
        new = "size_mib" in data or "name" in data
        chosen = [kind for kind, present in (("new", new), ("volume", "volume" in data), ("path", "path" in data))
                  if present]
        if len(chosen) != 1:
            raise serializers.ValidationError(
                _("Give a new volume (pool, name, size_mib), an existing one (pool, volume), or a path."))
        required = {"new": ("pool", "name", "size_mib"), "volume": ("pool", "volume"), "path": ()}[chosen[0]]
        missing = {field: [_("This field is required.")] for field in required if field not in data}
        if missing:
            raise serializers.ValidationError(missing)
        if new and data["device"] != "disk":
            raise serializers.ValidationError({"device": [_("A new volume is attached as a disk.")]})
        return data


class DiskUpdateSerializer(serializers.Serializer):
    bus = _optional(serializers.ChoiceField, choices=DISK_BUSES)
    cache = _optional(serializers.ChoiceField, choices=CACHE_MODES)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError(_("Give bus, cache or both."))
        return data


class DiskResizeSerializer(serializers.Serializer):
    size_mib = serializers.IntegerField(min_value=1, max_value=MAX_SIZE_MIB, help_text=_("The new size in MiB"))


class MediaSerializer(serializers.Serializer):
    """A volume to insert: pool and volume, or its path."""

    pool = _optional(serializers.CharField, max_length=240)
    volume = _optional(serializers.CharField, max_length=240)
    path = _optional(serializers.CharField, max_length=4096)

    def validate(self, data):
        if "path" in data and len(data) == 1 or "path" not in data and set(data) == {"pool", "volume"}:
            return data
        raise serializers.ValidationError(_("Give pool and volume, or path."))


class NicAddSerializer(serializers.Serializer):
    type = serializers.ChoiceField(NIC_TYPES, help_text=_("network, bridge (a host bridge), direct (macvtap)"))
    source = serializers.CharField(max_length=64, help_text=_("The network, bridge or host interface name"))
    model = serializers.ChoiceField(NIC_MODELS, default="virtio")
    mac = _optional(serializers.CharField, max_length=17, allow_blank=True, help_text=_("Empty: a new random one"))
    link_up = serializers.BooleanField(default=True)
    affect = _affect()


class DetachSerializer(serializers.Serializer):
    """DELETE's query string: ?affect=config removes it from the next boot only."""

    affect = _affect()


class NicUpdateSerializer(serializers.Serializer):
    link_up = _optional(serializers.BooleanField)
    type = _optional(serializers.ChoiceField, choices=NIC_TYPES)
    source = _optional(serializers.CharField, max_length=64)
    model = _optional(serializers.ChoiceField, choices=NIC_MODELS)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError(_("Give link_up, type and source, or model."))
        return data


class ConfigSerializer(serializers.Serializer):
    """PATCH: any subset. GET adds what is read-only (live values, the host's limits, pending changes)."""

    vcpus = _optional(serializers.IntegerField, min_value=1, max_value=MAX_VCPUS, help_text=_(
        "Online vCPUs; over the maximum (and no max_vcpus given) the maximum is raised with it"))
    max_vcpus = _optional(serializers.IntegerField, min_value=1, max_value=MAX_VCPUS,
                          help_text=_("Maximum vCPUs (next boot)"))
    memory_mib = _optional(serializers.IntegerField, min_value=1, max_value=MAX_MEMORY_MIB,
                           help_text=_(
                               "Current memory (the balloon); over the maximum (and no max_memory_mib given) the "
                               "maximum is raised with it"))
    max_memory_mib = _optional(serializers.IntegerField, min_value=1, max_value=MAX_MEMORY_MIB,
                               help_text=_("Maximum memory (next boot)"))
    cpu_mode = _optional(serializers.ChoiceField, choices=CPU_MODES)
    cpu_model = _optional(serializers.CharField, max_length=64, help_text=_("custom mode: e.g. qemu64"))
    boot = _optional(serializers.ListField, child=serializers.ChoiceField(BOOT_DEVICES), min_length=1,
                     max_length=len(BOOT_DEVICES), help_text=_("Boot devices in order"))
    vnc_listen = _optional(serializers.CharField, max_length=64,
                           help_text=_("VNC listen address, an IP address (next boot)"))
    vnc_password = _optional(serializers.CharField, write_only=True, min_length=1, max_length=8,
                             trim_whitespace=False, help_text=_("Write-only; never shown back"))
    vnc_password_clear = _optional(serializers.BooleanField, write_only=True, help_text=_("Remove the password"))

    def validate(self, data):
        if not data:
            raise serializers.ValidationError(_("Give at least one field to change."))
        if "cpu_model" in data and "cpu_mode" not in data:
            raise serializers.ValidationError({"cpu_mode": [_("Give the mode with the model (custom).")]})
        if data.get("vnc_password_clear") and "vnc_password" in data:
            raise serializers.ValidationError({"vnc_password_clear": [_("Set a password or clear it, not both.")]})
        return data


# Answers, for the API schema.


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    live = serializers.BooleanField(help_text=_("false: it applies at the next boot"))


class ChangesSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)


class DiskRowSerializer(serializers.Serializer):
    target = serializers.CharField()
    device = serializers.CharField(help_text=_("disk, cdrom, floppy, lun"))
    bus = serializers.CharField()
    format = serializers.CharField(allow_null=True)
    cache = serializers.CharField()
    source = serializers.CharField(allow_null=True, help_text=_("A path, pool/volume, or null (empty drive)"))
    readonly = serializers.BooleanField()


class NicRowSerializer(serializers.Serializer):
    mac = serializers.CharField()
    type = serializers.CharField()
    source = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    link_up = serializers.BooleanField()


class DisksSerializer(serializers.Serializer):
    disks = DiskRowSerializer(many=True)


class DiskChangedSerializer(ChangesSerializer, DisksSerializer):
    target = serializers.CharField(required=False)
    capacity_bytes = serializers.IntegerField(required=False)


class NicsSerializer(serializers.Serializer):
    nics = NicRowSerializer(many=True)


class NicChangedSerializer(ChangesSerializer, NicsSerializer):
    mac = serializers.CharField(required=False)


class InstanceHardwareView(ObjectAPIView):
    queryset = Instance.objects.select_related("host")
    filter_backends = []
    pagination_class = None

    def changed(self, result, extra=None, status_code=status.HTTP_200_OK):
        return Response({**(extra or {}), "changes": [change.as_dict() for change in result["changes"]]},
                        status=status_code)

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class DiskListView(InstanceHardwareView):
    """The VM's disks and CD-ROM drives (from the running definition, else the saved one); POST attaches one."""

    serializer_class = DiskAttachSerializer

    @extend_schema(responses=DisksSerializer)
    def get(self, request, pk):
        return Response({"disks": devices.disks(self.get_object())})

    @extend_schema(responses={201: DiskChangedSerializer})
    def post(self, request, pk):
        instance = self.get_object()
        result = devices.attach_disk(instance, **self.validated(DiskAttachSerializer))
        return self.changed(result, {"target": result["target"], "disks": devices.disks(instance)},
                            status.HTTP_201_CREATED)


class DiskView(InstanceHardwareView):
    """PATCH: bus or cache mode (next boot). DELETE: detach (the image stays)."""

    serializer_class = DiskUpdateSerializer

    @extend_schema(responses=ChangesSerializer)
    def patch(self, request, pk, target):
        return self.changed(devices.update_disk(self.get_object(), target, **self.validated(DiskUpdateSerializer)))

    @extend_schema(request=None, parameters=[DetachSerializer], responses=ChangesSerializer)
    def delete(self, request, pk, target):
        return self.changed(devices.detach_disk(self.get_object(), target, **self.query(DetachSerializer)))


class DiskResizeView(InstanceHardwareView):
    """Grow the disk: live when the VM runs, else through its storage volume. Never shrinks."""

    serializer_class = DiskResizeSerializer

    @extend_schema(responses=DiskChangedSerializer)
    def post(self, request, pk, target):
        result = devices.resize_disk(self.get_object(), target, self.validated(DiskResizeSerializer)["size_mib"])
        return self.changed(result, {"capacity_bytes": result["capacity_bytes"]})


class MediaView(InstanceHardwareView):
    """POST inserts a volume into the CD-ROM drive; DELETE ejects it."""

    serializer_class = MediaSerializer

    @extend_schema(responses=ChangesSerializer)
    def post(self, request, pk, target):
        return self.changed(devices.change_media(self.get_object(), target, **self.validated(MediaSerializer)))

    @extend_schema(request=None, responses=ChangesSerializer)
    def delete(self, request, pk, target):
        return self.changed(devices.change_media(self.get_object(), target))


class NicListView(InstanceHardwareView):
    """The VM's network interfaces; POST adds one."""

    serializer_class = NicAddSerializer

    @extend_schema(responses=NicsSerializer)
    def get(self, request, pk):
        return Response({"nics": devices.nics(self.get_object())})

    @extend_schema(responses={201: NicChangedSerializer})
    def post(self, request, pk):
        instance = self.get_object()
        values = self.validated(NicAddSerializer)
        result = devices.add_nic(instance, **values)
        return self.changed(result, {"mac": result["mac"], "nics": devices.nics(instance)}, status.HTTP_201_CREATED)


class NicView(InstanceHardwareView):
    """PATCH: link state and source (live), model (next boot). DELETE: remove it."""

    serializer_class = NicUpdateSerializer

    @extend_schema(responses=ChangesSerializer)
    def patch(self, request, pk, mac):
        return self.changed(devices.update_nic(self.get_object(), mac.lower(), **self.validated(NicUpdateSerializer)))

    @extend_schema(request=None, parameters=[DetachSerializer], responses=ChangesSerializer)
    def delete(self, request, pk, mac):
        return self.changed(devices.remove_nic(self.get_object(), mac.lower(), **self.query(DetachSerializer)))


class ConfigView(InstanceHardwareView):
    """vCPUs, memory, CPU mode, boot order and VNC. GET never shows the VNC password, only whether one is set."""

    serializer_class = ConfigSerializer

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        return Response(devices.hardware(self.get_object()))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def patch(self, request, pk):
        instance = self.get_object()
        result = devices.update_config(instance, **self.validated(ConfigSerializer))
        return self.changed(result, {"config": devices.hardware(instance)})
