"""/api/instances/<id>/migrate/: GET the precheck (every other host, can / cannot and why), POST start
a migration (202 + job); <id>/migrate/post-copy/: POST switch the running migration to post-copy.

Cancel is the job's own: POST /api/jobs/<job id>/cancel/ (libvirt's abortJob; the VM stays on the source).
The same services as the VM's page (instances/migration.py).
"""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.serializers import JobSerializer
from core.api.views import ObjectAPIView, accepted
from core.permissions import restrict
from hosts.models import Host
from virt import migration as virt_migration

from .. import bulk_migration, evacuation, migration, migration_jobs
from ..models import Instance
from .lifecycle import UnknownFieldsMixin


class PrecheckSerializer(serializers.Serializer):
    host = serializers.IntegerField(source="host.pk")
    host_name = serializers.CharField(source="host.name")
    can = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="why it cannot (empty if it can)")
    warnings = serializers.ListField(child=serializers.CharField())
    storage = serializers.CharField(allow_null=True, help_text="the storage mode that fits: shared or copy_all")
    needs_unsafe = serializers.BooleanField(help_text="disks in a plain directory both hosts see: pass unsafe")


def _hosts(request):
    return restrict(Host.objects.all(), request.user)


class MigrateRequestSerializer(serializers.Serializer):
    target_host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all())
    live = serializers.BooleanField(default=True)
    persistent = serializers.BooleanField(default=True)
    undefine_source = serializers.BooleanField(default=True)
    storage = serializers.ChoiceField(choices=virt_migration.STORAGE_MODES, default="shared")
    peer2peer = serializers.BooleanField(default=True)
    tunnelled = serializers.BooleanField(default=False)
    max_bandwidth_mib = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1 << 20,
                                                 help_text="MiB/s")
    max_downtime_ms = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=600_000)
    auto_converge = serializers.BooleanField(default=False)
    post_copy = serializers.BooleanField(default=False)
    compressed = serializers.BooleanField(default=False)
    unsafe = serializers.BooleanField(default=False)

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        if request is not None:
            self.fields["target_host"].queryset = _hosts(request)

    def options(self):
        data = dict(self.validated_data)
        data.pop("target_host")
        return virt_migration.Options(**data)


class NoMigrationRunning(APIException):
    status_code = 409
    default_detail = "no migration of this VM is running"


class InstanceMigrationView(ObjectAPIView):
    permission_action = "migrate"  # access/rules.py: an operator grant with `migrate`
    read_action = "migrate"  # the precheck asks every host: not for those who may only look
    queryset = Instance.objects.select_related("host")
    serializer_class = PrecheckSerializer


class MigrateView(InstanceMigrationView):
    @extend_schema(responses=PrecheckSerializer(many=True), summary="Which hosts can take the VM, and why not")
    def get(self, request, pk):
        instance = self.get_object()
        targets = _hosts(request).exclude(pk=instance.host_id).order_by("name")
        return Response(PrecheckSerializer(migration.precheck(instance, list(targets)), many=True).data)

    @extend_schema(request=MigrateRequestSerializer, responses={202: JobSerializer}, summary="Migrate the VM")
    def post(self, request, pk):
        instance = self.get_object()
        given = MigrateRequestSerializer(data=request.data, request=request)
        given.is_valid(raise_exception=True)
        try:
            job = migration_jobs.start_migration(instance, request.user, given.validated_data["target_host"],
                                            given.options())
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return accepted(request, job)


class PostCopyView(InstanceMigrationView):
    @extend_schema(request=None, responses={200: JobSerializer, 409: None},
                   summary="Switch the running migration to post-copy (started with post_copy)")
    def post(self, request, pk):
        instance = self.get_object()
        job = migration.running_migration(instance)
        if job is None:
            raise NoMigrationRunning(_("No migration of this VM is running."))
        try:
            migration.switch_to_post_copy(instance, job)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(JobSerializer(job, context={"request": request}).data)


class EvacuateRequestSerializer(serializers.Serializer):
    target_host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all(), required=False, allow_null=True,
                                                     help_text="omit: each VM to the fitting host with most free memory")
    parallel = serializers.IntegerField(default=1, min_value=1, max_value=evacuation.MAX_PARALLEL)
    unsafe = serializers.BooleanField(default=False, help_text="allow hosts that see the disks in a plain directory")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        if request is not None:
            self.fields["target_host"].queryset = _hosts(request)


class EvacuateView(ObjectAPIView):
    queryset = Host.objects.all()
    serializer_class = EvacuateRequestSerializer

    @extend_schema(request=EvacuateRequestSerializer, responses={202: JobSerializer},
                   summary="Migrate every running VM of the host elsewhere (one child job per VM)")
    def post(self, request, pk):
        host = self.get_object()
        given = EvacuateRequestSerializer(data=request.data, request=request)
        given.is_valid(raise_exception=True)
        try:
            job = migration_jobs.start_evacuation(host, request.user, target=given.validated_data.get("target_host"),
                                              parallel=given.validated_data["parallel"],
                                              unsafe=given.validated_data["unsafe"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return accepted(request, job)


class BulkMigrateRequestSerializer(UnknownFieldsMixin, EvacuateRequestSerializer):
    """The evacuation's choices, for the VMs named instead of a host's."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), allow_empty=False,
                                max_length=bulk_migration.MAX_IDS, help_text="The VMs to migrate, each once")

    def validate_ids(self, ids):
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError(_("Give each id once."))
        return ids


class BulkPrecheckQuerySerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), allow_empty=False,
                                max_length=bulk_migration.MAX_IDS)


class BulkPrecheckSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="vm.pk")
    name = serializers.CharField(source="vm.name")
    host = serializers.IntegerField(source="vm.host_id")
    host_name = serializers.CharField(source="vm.host.name")
    error = serializers.CharField(allow_null=True, help_text="its own host did not answer: nothing checked")
    hosts = serializers.SerializerMethodField(help_text="the precheck of every other host")

    def get_hosts(self, row) -> list:
        return PrecheckSerializer([cell["check"] for cell in row["cells"] if cell["check"]], many=True).data


class BulkMigrateView(GenericAPIView):
    serializer_class = BulkMigrateRequestSerializer
    filter_backends = ()
    pagination_class = None  # the prechecks of the VMs asked for, all of them: not a page of a list

    @extend_schema(parameters=[BulkPrecheckQuerySerializer], responses=BulkPrecheckSerializer(many=True),
                   summary="Which hosts can take each of these VMs (?ids=1&ids=2), and why not")
    def get(self, request):
        query = BulkPrecheckQuerySerializer(data={"ids": request.query_params.getlist("ids")})
        query.is_valid(raise_exception=True)
        vms, missing = bulk_migration.selected(list(dict.fromkeys(query.validated_data["ids"])), request.user)
        if missing:
            raise serializers.ValidationError({"ids": _("No such instance: %(ids)s.")
                                               % {"ids": ", ".join(map(str, missing))}})
        rows = bulk_migration.prechecks(vms, list(_hosts(request).order_by("name")))
        return Response(BulkPrecheckSerializer(rows, many=True).data)

    @extend_schema(request=BulkMigrateRequestSerializer, responses={202: JobSerializer},
                   summary="Migrate these VMs: one parent job, a child migration job per VM")
    def post(self, request):
        given = BulkMigrateRequestSerializer(data=request.data, request=request)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            job = migration_jobs.start_bulk_migration(data["ids"], request.user, target=data.get("target_host"),
                                                      parallel=data["parallel"], unsafe=data["unsafe"])
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return accepted(request, job)
