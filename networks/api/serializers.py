from rest_framework import serializers

from hosts.models import Host
from virt.xml.network import MACVTAP_MODES

from ..forms import CREATABLE_MODES
from ..models import Network


class NetworkSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-networks:network-detail")
    host_name = serializers.CharField(source="host.name", read_only=True)

    class Meta:
        model = Network
        fields = ["id", "url", "host", "host_name", "uuid", "name", "mode", "active", "autostart", "persistent",
                  "bridge", "uplinks", "macvtap_mode", "ipv4", "ipv6", "dhcp_ranges", "static_hosts", "updated_at"]
        read_only_fields = fields


class StaticHostSerializer(serializers.Serializer):
    mac = serializers.CharField(max_length=17)
    ip = serializers.CharField(max_length=45)
    name = serializers.CharField(max_length=253, required=False)


class DNSHostSerializer(serializers.Serializer):
    ip = serializers.CharField(max_length=45)
    hostname = serializers.CharField(max_length=253)


class NetworkCreateSerializer(serializers.Serializer):
    """What POST /api/networks/ takes; virt.xml.network.build_network checks the rest (400 naming the field)."""

    host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all())
    name = serializers.CharField(max_length=200)
    mode = serializers.ChoiceField(choices=CREATABLE_MODES)
    bridge = serializers.CharField(max_length=15, required=False, allow_blank=True)
    forward_dev = serializers.CharField(max_length=15, required=False, allow_blank=True)
    macvtap_mode = serializers.ChoiceField(choices=MACVTAP_MODES, required=False, default="bridge")
    ipv4_address = serializers.CharField(max_length=45, required=False, allow_blank=True)
    ipv4_prefix = serializers.IntegerField(min_value=0, max_value=32, required=False, allow_null=True)
    dhcp_start = serializers.CharField(max_length=45, required=False, allow_blank=True)
    dhcp_end = serializers.CharField(max_length=45, required=False, allow_blank=True)
    ipv6_address = serializers.CharField(max_length=45, required=False, allow_blank=True)
    ipv6_prefix = serializers.IntegerField(min_value=0, max_value=128, required=False, allow_null=True)
    static_hosts = StaticHostSerializer(many=True, required=False, max_length=1024)
    dns_hosts = DNSHostSerializer(many=True, required=False, max_length=1024)
    domain_name = serializers.CharField(max_length=253, required=False, allow_blank=True)
    autostart = serializers.BooleanField(required=False, default=False)
    start = serializers.BooleanField(required=False, default=True)
    dry_run = serializers.BooleanField(required=False, default=False)


class LeaseSerializer(serializers.Serializer):
    mac = serializers.CharField()
    ip = serializers.CharField()
    hostname = serializers.CharField()
    client_id = serializers.CharField()
    expires = serializers.IntegerField()


class AttachmentSerializer(serializers.Serializer):
    uuid = serializers.CharField()
    name = serializers.CharField()
    mac = serializers.CharField()
    active = serializers.BooleanField()
    tap = serializers.CharField()


class NetworkXMLSerializer(serializers.Serializer):
    xml = serializers.CharField(max_length=1_000_000, trim_whitespace=False)
    diff = serializers.CharField(read_only=True)


class InterfaceSerializer(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    kind = serializers.CharField()
    mac = serializers.CharField()
    mtu = serializers.IntegerField()
    master = serializers.CharField()
    addresses = serializers.ListField(child=serializers.CharField())


class FirewallRuleSerializer(serializers.Serializer):
    spec = serializers.CharField()
    target = serializers.CharField()
    packets = serializers.IntegerField()
    bytes = serializers.IntegerField()
    libvirt = serializers.BooleanField()


class FirewallChainSerializer(serializers.Serializer):
    name = serializers.CharField()
    policy = serializers.CharField()
    packets = serializers.IntegerField()
    bytes = serializers.IntegerField()
    libvirt = serializers.BooleanField()
    rules = FirewallRuleSerializer(many=True)


class FirewallTableSerializer(serializers.Serializer):
    name = serializers.CharField()
    chains = FirewallChainSerializer(many=True)


class TraceRequestSerializer(serializers.Serializer):
    seconds = serializers.IntegerField(min_value=1, max_value=60, default=10)
    protocol = serializers.ChoiceField(choices=["any", "icmp", "udp", "tcp", "arp"], default="any")
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True, default=None)
    address = serializers.IPAddressField(required=False, allow_blank=True, default="")


class BridgeSerializer(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField(read_only=True)
    ports = serializers.ListField(child=serializers.CharField(), read_only=True)
    addresses = serializers.ListField(child=serializers.CharField(), read_only=True)
    pending = serializers.BooleanField(read_only=True, help_text="A guarded change waits for confirmation")


class BridgeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=15)
    uplink = serializers.CharField(max_length=15, required=False, allow_blank=True, default="")
    seconds = serializers.IntegerField(min_value=10, max_value=600, default=60,
                                       help_text="Undo the change after this long unless confirmed")


class BridgeChangeSerializer(serializers.Serializer):
    name = serializers.CharField()
    confirm_needed = serializers.BooleanField()
    seconds = serializers.IntegerField()
