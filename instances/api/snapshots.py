"""/api/instances/<id>/snapshots/: list (a tree) and create; <name>/ read and DELETE; <name>/revert/ POST.

The same services as the VM's page (instances/snapshots.py). Create, revert and delete are jobs
(instances/lifecycle_jobs.py): 202 with the job and its Location once the request's checks pass; the job's
result holds what the answer used to (the snapshot's name, the revert's method and label, the files left).
Errors from libvirt go through core/api/exceptions.py (404 no such snapshot, 409 wrong state, 503 host down).
"""
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api.serializers import JobSerializer
from core.api.views import ObjectAPIView, accepted

from .. import lifecycle_jobs, snapshots
from ..models import Instance


class SnapshotSerializer(serializers.Serializer):
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True, help_text="null for a root")
    children = serializers.ListField(child=serializers.CharField(), help_text="names, oldest first")
    depth = serializers.IntegerField(help_text="0 for a root; the list is depth-first")
    current = serializers.BooleanField(help_text="the snapshot the VM was last at (the next one's parent)")
    kind = serializers.ChoiceField(choices=snapshots.SnapshotKind.choices)
    state = serializers.CharField(help_text="the VM's state when taken, or disk-snapshot")
    memory = serializers.BooleanField(help_text="whether the memory was saved too")
    created = serializers.DateTimeField(source="created_at", allow_null=True)
    description = serializers.CharField(allow_blank=True)


class SnapshotCreateSerializer(serializers.Serializer):
    # Rules are checked by the service (one place for page and API): allow what it judges.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    kind = serializers.CharField(default=snapshots.SnapshotKind.INTERNAL,
                                 help_text="internal (in the qcow2 images, memory too if running) or "
                                           "external (disk-only overlays)")
    description = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)


class RevertSerializer(serializers.Serializer):
    name = serializers.CharField()
    method = serializers.ChoiceField(choices=["native", "manual"],
                                     help_text="native: libvirt reverted; manual: virtdeck's own revert of an "
                                               "external snapshot on libvirt before 9.9")
    label = serializers.CharField()
    images = serializers.DictField(child=serializers.CharField(), required=False,
                                   help_text="manual: disk -> the snapshot's image it points at again")
    overlays = serializers.DictField(child=serializers.CharField(), required=False,
                                     help_text="manual: disk -> the fresh overlay it now writes to")
    left = serializers.ListField(child=serializers.CharField(), required=False,
                                 help_text="manual: files that held the state left behind, kept on the host")
    removed = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="manual with discard_current: those files, deleted")
    state = serializers.CharField(help_text="the VM's state after the revert")


class RevertRequestSerializer(serializers.Serializer):
    discard_current = serializers.BooleanField(
        default=False, help_text="virtdeck's own revert only: also delete the files that held the state left "
                                 "behind, where no snapshot needs them and a storage pool covers them")


def field_errors(exc):
    """The service's ValidationError as DRF's (400, keyed by field)."""
    return serializers.ValidationError(exc.message_dict)


class InstanceSnapshotView(ObjectAPIView):
    permission_action = "snapshots"  # access/rules.py: an operator grant with `snapshots`
    queryset = Instance.objects.select_related("host")
    serializer_class = SnapshotSerializer


class SnapshotListView(InstanceSnapshotView):
    @extend_schema(responses=SnapshotSerializer(many=True), summary="The VM's snapshots, depth-first")
    def get(self, request, pk):
        return Response(SnapshotSerializer(snapshots.list_snapshots(self.get_object()), many=True).data)

    @extend_schema(request=SnapshotCreateSerializer, responses={202: JobSerializer},
                   summary="Take a snapshot (a job; its result names the snapshot)")
    def post(self, request, pk):
        instance = self.get_object()
        given = SnapshotCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            job = lifecycle_jobs.create_snapshot(instance, request.user, **given.validated_data)
        except ValidationError as exc:
            raise field_errors(exc) from None
        return accepted(request, job)


class SnapshotDetailView(InstanceSnapshotView):
    @extend_schema(responses=SnapshotSerializer, summary="One snapshot")
    def get(self, request, pk, name):
        return Response(SnapshotSerializer(snapshots.get_snapshot(self.get_object(), name)).data)

    @extend_schema(responses={202: JobSerializer}, summary=(
        "Delete a snapshot (an external one is merged back); a job whose result is name, metadata_only, "
        "files_left"))
    def delete(self, request, pk, name):
        return accepted(request, lifecycle_jobs.delete_snapshot(self.get_object(), request.user, name))


class SnapshotRevertView(InstanceSnapshotView):
    serializer_class = RevertSerializer

    @extend_schema(request=RevertRequestSerializer, responses={202: JobSerializer}, summary=(
        "Revert the VM to the snapshot; a job whose result is as RevertSerializer"))
    def post(self, request, pk, name):
        instance = self.get_object()
        given = RevertRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return accepted(request, lifecycle_jobs.revert_snapshot(instance, request.user, name,
                                                                **given.validated_data))
