"""SSH host keys over the API: fetch the key a host offers (to pin it as ssh_known_hosts), generate a key pair
for virtdeck, and see or accept a host's changed key. The same service functions as the pages
(hosts.host_keys)."""
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadOnlyTokens
from core.permissions import IsAdmin, restrict
from virt.errors import InvalidValue

from .. import host_keys, services
from ..models import Host


class UriSerializer(serializers.Serializer):
    uri = serializers.CharField(max_length=500, help_text="qemu+ssh:// or qemu+libssh:// URI of the host")


class OfferedKeySerializer(serializers.Serializer):
    known_hosts_name = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField()
    fingerprint = serializers.CharField(help_text="SHA256:..., as ssh-keygen -lf prints it")
    known_hosts = serializers.CharField(source="line", help_text="the line to send as ssh_known_hosts")


class KeyPairSerializer(serializers.Serializer):
    private_key = serializers.CharField(help_text="OpenSSH private key: send it as ssh_private_key")
    public_key = serializers.CharField(help_text="the line for the host's authorized_keys")


class HostKeySerializer(serializers.Serializer):
    pinned = serializers.ListField(child=serializers.CharField(), help_text="fingerprints virtdeck trusts")
    offered = OfferedKeySerializer()
    changed = serializers.BooleanField()


class AcceptHostKeySerializer(serializers.Serializer):
    fingerprint = serializers.CharField(max_length=100, help_text="the fingerprint you checked on the host")


# Admins only: fetching a key makes virtdeck connect to any address and port it can reach.
ADMIN_ONLY = [IsAdmin, ReadOnlyTokens]


class SshHostKeyView(APIView):
    """POST {uri}: the key the SSH host offers now. Compare its fingerprint with the host's own before you send
    `known_hosts` as the host's ssh_known_hosts."""

    permission_classes = ADMIN_ONLY

    @extend_schema(request=UriSerializer, responses=OfferedKeySerializer)
    def post(self, request):
        payload = UriSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(OfferedKeySerializer(host_keys.fetch_for_uri(payload.validated_data["uri"])).data)


class SshKeyPairView(APIView):
    """POST: a new Ed25519 key pair for virtdeck to log in to a host with (nothing is stored)."""

    permission_classes = ADMIN_ONLY

    @extend_schema(request=None, responses=KeyPairSerializer)
    def post(self, request):
        private_key, public_key = host_keys.generate_key_pair()
        return Response({"private_key": private_key, "public_key": public_key})


class HostKeyView(APIView):
    """GET: the pinned fingerprints and the key the host offers now. POST {fingerprint}: accept the offered key
    (only if it still has that fingerprint) and connect with it."""

    permission_classes = ADMIN_ONLY

    def get_host(self, request, pk):
        return get_object_or_404(restrict(Host.objects.all(), request.user), pk=pk)

    @extend_schema(responses=HostKeySerializer)
    def get(self, request, pk):
        host = self.get_host(request, pk)
        hostname, port = host_keys.ssh_target(host.uri)
        offered = host_keys.fetch(hostname, port)
        pinned = host_keys.pinned_fingerprints(host.ssh_known_hosts, hostname, port)
        return Response(HostKeySerializer({"pinned": pinned, "offered": offered,
                                           "changed": offered.fingerprint not in pinned}).data)

    @extend_schema(request=AcceptHostKeySerializer, responses=HostKeySerializer)
    def post(self, request, pk):
        host = self.get_host(request, pk)
        payload = AcceptHostKeySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        offered = host_keys.fetch_for_uri(host.uri)
        if offered.fingerprint != payload.validated_data["fingerprint"]:
            raise InvalidValue("fingerprint", _("The host offers %(offered)s, not %(given)s: nothing was pinned.")
                               % {"offered": offered.fingerprint, "given": payload.validated_data["fingerprint"]})
        services.accept_host_key(host, offered)
        return Response(HostKeySerializer({"pinned": [offered.fingerprint], "offered": offered,
                                           "changed": False}).data)
