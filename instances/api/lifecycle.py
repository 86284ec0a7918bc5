"""/api/instances/ writes: the lifecycle routes (POST {id}/start/ ...), PATCH, DELETE and POST bulk/.

Mixed into InstanceViewSet (listed before BaseViewSet, so that its object_actions are the ones routed).
"""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from django.utils.translation import gettext, gettext_lazy
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .. import bulk, edit
from ..actions import ACTIONS, BULK, DELETE, deleting
from .devices import MAX_MEMORY_MIB, MAX_VCPUS
from .serializers import InstanceSerializer

TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


class UnknownFieldsMixin:
    """Refuse keys the serializer does not have (a typo must not pass as 'nothing to change')."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": [gettext("Expected a JSON object.")]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise ValidationError({key: [gettext("Unknown field; known: %(fields)s.") % {"fields": ", ".join(self.fields)}] for key in unknown})
        return super().to_internal_value(data)


class InstanceChangeSerializer(UnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(required=False, trim_whitespace=False, max_length=500,
                                 help_text="New name (shut-off VMs only).")
    autostart = serializers.BooleanField(required=False, help_text="Start when the host boots.")
    vcpus = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VCPUS, help_text=gettext_lazy(
        "Online vCPUs (at most the host's CPUs). Over the VM's maximum, the maximum is raised with it "
        "(max_vcpus in `applied`); a running VM then takes it at its next boot. As /config/ does."))
    memory_mib = serializers.IntegerField(required=False, min_value=1, max_value=MAX_MEMORY_MIB, help_text=gettext_lazy(
        "Current memory in MiB (at most the host's). Over the VM's maximum, the maximum is raised with it "
        "(max_memory_mib in `applied`); a running VM then takes it at its next boot. As /config/ does."))


class InstanceChangedSerializer(InstanceSerializer):
    applied = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                    help_text='Where each change went: "config" and/or "live".')
    next_boot = serializers.ListField(child=serializers.CharField(),
                                      help_text="Fields the running VM takes only at its next boot.")

    class Meta(InstanceSerializer.Meta):
        fields = [*InstanceSerializer.Meta.fields, "applied", "next_boot"]
        read_only_fields = fields


class BulkSerializer(UnknownFieldsMixin, serializers.Serializer):
    action = serializers.ChoiceField(choices=list(BULK))
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                allow_empty=False, max_length=bulk.MAX_IDS)

    def validate_ids(self, ids):
        if len(set(ids)) != len(ids):
            raise ValidationError(gettext("Give each id once."))
        return ids


class BulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    ok = serializers.BooleanField()
    state = serializers.CharField(required=False)
    status = serializers.IntegerField(required=False, help_text="The HTTP status this VM alone would get.")
    detail = serializers.CharField(required=False)
    job = serializers.IntegerField(required=False, help_text="The job that saves or restores this VM.")


class BulkAnswerSerializer(serializers.Serializer):
    action = serializers.CharField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class DeletedSerializer(serializers.Serializer):
    deleted = serializers.ListField(child=serializers.CharField(), help_text="Disk images deleted.")
    left = serializers.ListField(child=serializers.DictField(),
                                 help_text="Images left, each with path and reason (not_in_pool, "
                                           "used_by_another_vm with vm, network_disk).")


def flag(request, name):
    value = request.query_params.get(name, "").lower()
    if value not in TRUE + FALSE:
        raise ValidationError({name: [gettext("Must be true or false.")]})
    return value in TRUE


class InstanceLifecycleMixin:
    object_actions = ACTIONS
    delete_action = DELETE

    @extend_schema(request=InstanceChangeSerializer, responses=InstanceChangedSerializer)
    def partial_update(self, request, pk=None):
        """Rename (shut off only), autostart, vCPUs, memory; `applied` says where each went, `next_boot` which
        a running VM takes only when it next boots."""
        instance = self.get_object()
        changes = InstanceChangeSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        try:
            fresh, outcome = edit.update(instance, changes.validated_data)
        except edit.FieldError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        data = InstanceSerializer(fresh, context=self.get_serializer_context()).data
        return Response({**data, **outcome})

    @extend_schema(parameters=[OpenApiParameter("delete_volumes", bool, description=(
        "Also delete its disk images (with external snapshots' overlays), through their storage pools."))],
        responses={200: DeletedSerializer, 409: None})
    def destroy(self, request, pk=None):
        """Delete a shut-off VM's definition with its snapshots' metadata, managed save and UEFI variables."""
        instance = self.get_object()
        delete_volumes = flag(request, "delete_volumes")
        report = deleting(delete_volumes).perform(instance, request.user)
        return Response(report, status=status.HTTP_200_OK)

    @extend_schema(request=BulkSerializer, responses=BulkAnswerSerializer)
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """One action on many VMs: a result per id, in order; one failing does not stop the others."""
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = bulk.run(body.validated_data["action"], body.validated_data["ids"], request.user)
        succeeded = sum(result["ok"] for result in results)
        return Response({"action": body.validated_data["action"], "succeeded": succeeded,
                         "failed": len(results) - succeeded, "results": results})

