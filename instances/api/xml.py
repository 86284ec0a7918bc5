"""GET/PUT /api/instances/<id>/xml/ (the XML editor) and POST /api/instances/from-xml/; services in
instances/xml_edit.py. XML the services refuse (ours or libvirt's validation) is a 400 on the `xml` field."""
import contextlib

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from core.api.views import ObjectAPIView
from core.permissions import restrict
from hosts.models import Host
from virt.errors import InvalidConfig

from .. import xml_edit
from ..models import Instance
from .serializers import InstanceSerializer


DIGEST_HELP = "SHA-256 of the definition as shown: send it back with an edit to refuse one made meanwhile"




class XMLEditSerializer(serializers.Serializer):
    xml = serializers.CharField(trim_whitespace=False, help_text=(
        "The new definition. A graphics device without passwd keeps the VM's password."))
    dry_run = serializers.BooleanField(default=False, help_text="Only say what would change; define nothing")
    digest = serializers.RegexField(r"^[0-9a-f]{64}$", required=False, help_text=(
        "The digest the edit started from (GET, or a dry run): 409 if the definition changed since"))


class PartChangeSerializer(serializers.Serializer):
    part = serializers.CharField(help_text="memory, vcpu, os, disk vda, interface 52:54:00:..., graphics vnc, ...")
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])


class XMLSerializer(serializers.Serializer):
    xml = serializers.CharField(help_text="The inactive definition (what the next boot uses), without secrets")
    digest = serializers.CharField(help_text=DIGEST_HELP)
    running = serializers.BooleanField()
    next_boot = PartChangeSerializer(many=True, help_text="Running VM: what it runs only after its next boot")


class XMLEditResultSerializer(serializers.Serializer):
    xml = serializers.CharField(help_text="The definition after the edit (as submitted, for a dry run)")
    changes = PartChangeSerializer(many=True, help_text="What differs from the definition before")
    diff = serializers.ListField(child=serializers.CharField(allow_blank=True), help_text="Unified diff lines")
    next_boot = PartChangeSerializer(many=True, help_text="Running VM: what it runs only after its next boot")
    running = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="False for a dry run")
    digest = serializers.CharField(help_text="Of the definition now on the host (for a dry run: the current one)")


class FromXMLSerializer(serializers.Serializer):
    host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all())
    xml = serializers.CharField(trim_whitespace=False)


@contextlib.contextmanager
def xml_field_errors():
    """The services' InvalidConfig as a 400 naming the `xml` field (libvirt's message included)."""
    try:
        yield
    except InvalidConfig as exc:
        raise serializers.ValidationError({"xml": [exc.message]}) from None


class InstanceXMLView(ObjectAPIView):
    """A VM's definition as the next boot uses it: read it, or replace it after libvirt validated it."""

    queryset = Instance.objects.select_related("host")
    serializer_class = XMLEditSerializer
    filter_backends = []

    @extend_schema(responses=XMLSerializer)
    def get(self, request, pk):
        return Response(XMLSerializer(xml_edit.read_xml(self.get_object())).data)

    @extend_schema(request=XMLEditSerializer, responses={200: XMLEditResultSerializer, 409: None})
    def put(self, request, pk):
        instance = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with xml_field_errors():
            result = xml_edit.edit_xml(instance, serializer.validated_data["xml"],
                                       dry_run=serializer.validated_data["dry_run"],
                                       expected_digest=serializer.validated_data.get("digest"))
        return Response(XMLEditResultSerializer(result).data)


class InstanceFromXMLView(generics.GenericAPIView):
    """Define a new VM on a host from its domain XML: 201 with the instance."""

    serializer_class = FromXMLSerializer
    filter_backends = []

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        serializer.fields["host"].queryset = restrict(Host.objects.all(), getattr(self.request, "user", None))
        return serializer

    @extend_schema(request=FromXMLSerializer, responses={201: InstanceSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with xml_field_errors():
            instance = xml_edit.create_from_xml(serializer.validated_data["host"], serializer.validated_data["xml"])
        data = InstanceSerializer(instance, context={"request": request}).data
        location = request.build_absolute_uri(reverse("api-instances:instance-detail", args=[instance.pk]))
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})
