"""POST /api/instances/ (the wizard in one request, `dry_run` for its XML) and POST /api/instances/<id>/clone/.

A mixin of InstanceViewSet, so the routes stay the viewset's own. Field errors answer 400 with
{field: [message]}, as DRF's own validation does.
"""
import contextlib

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.serializers import JobSerializer
from core.api.views import accepted
from core.permissions import restrict
from hosts.models import Host

from .. import creation, creation_tasks
from ..builder import AnswerErrors, parse_flag


@contextlib.contextmanager
def field_errors():
    """AnswerErrors (instances/builder.py) as DRF's 400 {field: [message]}."""
    try:
        yield
    except AnswerErrors as exc:
        raise ValidationError({name: [message] for name, message in exc.errors.items()}) from None


def _flag(data, name):
    try:
        return parse_flag(data.get(name, False))
    except ValueError:
        raise ValidationError({name: [_("Expected true or false.")]}) from None


class CreateInstanceSerializer(serializers.Serializer):
    """The request body of POST /api/instances/ (documentation: the answers are checked by instances.builder)."""

    host = serializers.IntegerField()
    name = serializers.CharField()
    install = serializers.ChoiceField(["iso", "import", "pxe", "none"], required=False)
    iso_volume = serializers.CharField(required=False, help_text="pool/volume")
    import_volume = serializers.CharField(required=False, help_text="pool/volume")
    os_variant = serializers.CharField(required=False, help_text="an osinfo short id, e.g. debian11")
    firmware = serializers.ChoiceField(["bios", "uefi"], required=False)
    vcpus = serializers.IntegerField(required=False)
    memory_mib = serializers.IntegerField(required=False)
    disk_pool = serializers.CharField(required=False)
    disk_size_gib = serializers.IntegerField(required=False)
    disk_format = serializers.ChoiceField(["qcow2", "raw"], required=False)
    disk_allocation = serializers.ChoiceField(["thin", "thick"], required=False)
    network = serializers.CharField(required=False)
    bridge = serializers.CharField(required=False)
    start = serializers.BooleanField(required=False, default=True)
    template = serializers.CharField(required=False, help_text="a template's id or name; fields given override it")
    dry_run = serializers.BooleanField(required=False, default=False)


class CloneSerializer(serializers.Serializer):
    name = serializers.CharField()
    pool = serializers.CharField()
    paused_copy = serializers.BooleanField(required=False, default=False)


class InstanceCreationMixin:
    @extend_schema(request=CreateInstanceSerializer, responses={200: None, 202: JobSerializer},
                   examples=[OpenApiExample("dry run", value={"host": 1, "name": "web2", "install": "none",
                                                              "dry_run": True})])
    def create(self, request, *args, **kwargs):
        """Create a VM from the wizard's answers: 202 + job (its result holds the new instance id);
        with `dry_run: true`, 200 {"xml": ...} and nothing changes."""
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Expected an object of answers.")]})
        data = {key: request.data.get(key) for key in request.data}
        dry_run = _flag(data, "dry_run")
        data.pop("dry_run", None)
        template = data.pop("template", None)
        host = self._host(data.pop("host", None))
        with field_errors():
            plan = creation.plan_instance(host, data, template=template)
        if dry_run:
            return Response({"xml": plan.xml})
        return accepted(request, creation_tasks.create_instance(plan, request.user))

    def _host(self, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise ValidationError({"host": [_("Expected a host id.")]}) from None
        host = restrict(Host.objects.all(), self.request.user, "create_instance").filter(pk=pk).first()
        if host is None:
            raise ValidationError({"host": [_("No host %(id)s.") % {"id": pk}]})
        return host

    @extend_schema(request=CloneSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        """Full clone into `pool` as `name` (202 + job); refused (409) while the VM runs unless paused_copy."""
        instance = self.get_object()
        body = CloneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with field_errors():
            job = creation_tasks.clone_instance(instance, request.user, body.validated_data["name"],
                                         body.validated_data["pool"], body.validated_data["paused_copy"])
        return accepted(request, job)
