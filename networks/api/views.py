from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.serializers import JobSerializer
from core.api.views import BaseViewSet, ObjectAPIView, accepted
from core.models import Job
from core.permissions import restrict
from hosts.models import Host
from instances.models import Instance

from .. import bridges, hostnet, services, tracing
from ..actions import ACTIONS, DELETE
from ..filters import NetworkFilterSet
from ..models import Network
from ..tasks import TraceNIC
from .serializers import (AttachmentSerializer, BridgeChangeSerializer, BridgeCreateSerializer, BridgeSerializer, FirewallTableSerializer, InterfaceSerializer, LeaseSerializer,
                          NetworkCreateSerializer, NetworkSerializer, NetworkXMLSerializer,
                          TraceRequestSerializer)


class NetworkViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                     viewsets.GenericViewSet):
    """Virtual networks. Lists read the inventory; leases, attached VMs and XML are read live from the host."""

    queryset = Network.objects.select_related("host")
    serializer_class = NetworkSerializer
    filterset_class = NetworkFilterSet
    object_actions = ACTIONS
    delete_action = DELETE

    @extend_schema(request=NetworkCreateSerializer, responses={201: NetworkSerializer})
    def create(self, request):
        """Create a network (checked, then defined, started and autostarted as asked); `dry_run` answers
        200 with the XML and changes nothing."""
        payload = NetworkCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        host = data.pop("host")
        if not restrict(type(host).objects.filter(pk=host.pk), request.user).exists():
            return Response({"host": [_("Invalid pk - object does not exist.")]}, status=status.HTTP_400_BAD_REQUEST)
        if data.pop("dry_run"):
            data.pop("start"), data.pop("autostart")
            return Response({"xml": services.preview_network(**data)})
        network = services.create_network(host, **data)
        return Response(NetworkSerializer(network, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=LeaseSerializer(many=True))
    @action(detail=True, methods=["get"])
    def leases(self, request, pk=None):
        """The live DHCP leases (409 when the network is not running)."""
        found = services.leases(self.get_object())
        return Response(LeaseSerializer([lease.as_dict() for lease in found], many=True).data)

    @extend_schema(request=None, responses=AttachmentSerializer(many=True))
    @action(detail=True, methods=["get"])
    def instances(self, request, pk=None):
        """The VMs with a NIC on this network, read live from the host."""
        found = services.attached(self.get_object())
        return Response(AttachmentSerializer([item.as_dict() for item in found], many=True).data)

    @extend_schema(methods=["GET"], request=None, responses=NetworkXMLSerializer)
    @extend_schema(methods=["PUT"], request=NetworkXMLSerializer, responses=NetworkXMLSerializer)
    @action(detail=True, methods=["get", "put"])
    def xml(self, request, pk=None):
        """GET: the definition the next start uses. PUT `xml`: validated by libvirt (400 with its message),
        saved, and answered with the diff; a running network applies it when it restarts."""
        network = self.get_object()
        if request.method == "GET":
            return Response({"xml": services.read_xml(network), "diff": ""})
        payload = NetworkXMLSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        network, diff = services.update_xml(network, payload.validated_data["xml"])
        return Response({"xml": services.read_xml(network), "diff": diff})


class HostInterfacesView(ObjectAPIView):
    """The host's interfaces with addresses, state and bridge membership (`ip -j -d addr show`); 400 for a
    host virtdeck reaches without a shell."""
    read_action = "host_shell"  # access/rules.py: commands run on the host, even to read, are for admins

    queryset = Host.objects.all()

    @extend_schema(responses=InterfaceSerializer(many=True))
    def get(self, request, pk):
        found = hostnet.interfaces(self.get_object())
        return Response(InterfaceSerializer([nic.as_dict() for nic in found], many=True).data)


class HostFirewallView(ObjectAPIView):
    """The host's iptables tables -> chains -> rules with packet and byte counters (read-only); libvirt's own
    chains and the rules jumping into them have `libvirt: true`."""
    read_action = "host_shell"  # access/rules.py: commands run on the host, even to read, are for admins

    queryset = Host.objects.all()

    @extend_schema(responses=FirewallTableSerializer(many=True))
    def get(self, request, pk):
        tables = hostnet.firewall(self.get_object())
        data = [{"name": name, "chains": [chain.as_dict() for chain in chains]} for name, chains in tables.items()]
        return Response(FirewallTableSerializer(data, many=True).data)


class NICPathView(ObjectAPIView):
    """The hops a packet of this NIC crosses (tap, bridge, firewall rules with counters, uplink), read live;
    `?address=` makes the uplink the host's route to that address."""

    queryset = Instance.objects.select_related("host")

    @extend_schema(responses=None)
    def get(self, request, pk, mac):
        hops, note = tracing.nic_path(self.get_object(), mac, request.query_params.get("address", ""))
        return Response({"hops": [hop.as_dict() for hop in hops], "note": note})


class NICTraceView(ObjectAPIView):
    """Start a trace: tcpdump on every hop at once for `seconds`; 202 + the job, whose result lists per hop the
    packets, the addresses seen and the pcap's URL."""

    queryset = Instance.objects.select_related("host")

    @extend_schema(request=TraceRequestSerializer, responses={202: JobSerializer})
    def post(self, request, pk, mac):
        payload = TraceRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = services.start_trace(self.get_object(), mac, request.user, **payload.validated_data)
        return accepted(request, job)


class TracePcapView(ObjectAPIView):
    """One hop's capture of a trace job, as a pcap file."""

    queryset = Job.objects.filter(kind=TraceNIC.kind)
    lookup_url_kwarg = "job_id"

    @extend_schema(responses={(200, "application/vnd.tcpdump.pcap"): bytes})
    def get(self, request, job_id, index):
        job = self.get_object()
        path = tracing.trace_dir(job.pk) / f"{int(index)}.pcap"
        if not path.is_file():
            raise Http404
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"trace-{job.pk}-hop{index}.pcap",
                            content_type="application/vnd.tcpdump.pcap")


class _HostShellView(ObjectAPIView):
    read_action = "host_shell"  # access/rules.py: commands run on the host, even to read, are for admins
    queryset = Host.objects.all()
    lookup_url_kwarg = "pk"


class HostBridgesView(_HostShellView):
    """GET: the host's Linux bridges with their ports. POST `name`, optional `uplink`, `seconds`: create one;
    with an uplink its addresses move onto the bridge, and the change is undone after `seconds` unless
    confirmed (POST .../bridges/{name}/confirm/) over a new connection."""

    @extend_schema(responses=BridgeSerializer(many=True))
    def get(self, request, pk):
        return Response(BridgeSerializer(bridges.list_bridges(self.get_object()), many=True).data)

    @extend_schema(request=BridgeCreateSerializer, responses={201: BridgeChangeSerializer})
    def post(self, request, pk):
        payload = BridgeCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        needed = bridges.create_bridge(self.get_object(), data["name"], data["uplink"] or None, data["seconds"])
        return Response({"name": data["name"], "confirm_needed": needed, "seconds": data["seconds"]},
                        status=status.HTTP_201_CREATED)


class HostBridgeView(_HostShellView):
    """DELETE: remove the bridge, its addresses going back to its uplink (guarded like a create; `?seconds=`)."""

    @extend_schema(responses={200: BridgeChangeSerializer})
    def delete(self, request, pk, name):
        seconds = BridgeCreateSerializer(data={"name": name, "seconds": request.query_params.get("seconds", 60)})
        seconds.is_valid(raise_exception=True)
        needed = bridges.delete_bridge(self.get_object(), name, seconds.validated_data["seconds"])
        return Response({"name": name, "confirm_needed": needed, "seconds": seconds.validated_data["seconds"]})


class HostBridgeConfirmView(_HostShellView):
    """Keep a guarded bridge change: stops its undo. 409 when nothing waits."""

    @extend_schema(request=None, responses={200: None})
    def post(self, request, pk, name):
        bridges.confirm(self.get_object(), name)
        return Response({"name": name, "confirmed": True})
