from django import forms
from django.utils.translation import gettext_lazy as _

from hosts.models import Host
from virt.errors import InvalidConfig

from .choices import MacvtapMode, NetworkMode

CREATABLE_MODES = [(value, label) for value, label in NetworkMode.choices if value != NetworkMode.HOSTDEV]


def parse_static_hosts(text):
    """Lines of `MAC IP [name]` -> [{"mac", "ip", "name"}]; InvalidConfig naming the line otherwise."""
    hosts = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) not in (2, 3):
            raise InvalidConfig(_("static_hosts: line %(number)s: expected 'MAC IP [name]'.") % {"number": number})
        hosts.append({"mac": words[0], "ip": words[1], **({"name": words[2]} if len(words) == 3 else {})})
    return hosts


def parse_dns_hosts(text):
    """Lines of `IP name` -> [{"ip", "hostname"}]; InvalidConfig naming the line otherwise."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) != 2:
            raise InvalidConfig(_("dns_hosts: line %(number)s: expected 'IP name'.") % {"number": number})
        entries.append({"ip": words[0], "hostname": words[1]})
    return entries


def add_virt_error(form, error):
    """Put an InvalidConfig on the field it names ("dhcp_start: ..."), else on the form."""
    field, _sep, rest = error.message.partition(": ")
    field = field.split("[")[0].split(".")[0]
    if field in form.fields and rest:
        form.add_error(field, rest)
    else:
        form.add_error(None, error.message)


class NetworkForm(forms.Form):
    """The create page: which fields matter depends on the mode (the page shows only those)."""

    host = forms.ModelChoiceField(queryset=Host.objects.order_by("name"), label=_("Host"))
    name = forms.CharField(max_length=200, label=_("Name"))
    mode = forms.ChoiceField(choices=CREATABLE_MODES, initial=NetworkMode.NAT, label=_("Mode"))
    bridge = forms.CharField(max_length=15, required=False, label=_("Bridge"),
                             help_text=_("NAT, routed, open, isolated: the bridge libvirt creates (empty: virbrN). "
                                         "Host bridge mode: an existing bridge on the host, e.g. br0."))
    forward_dev = forms.CharField(max_length=15, required=False, label=_("Host interface"),
                                  help_text=_("macvtap: the host NIC guests attach to. NAT and routed: optionally "
                                              "forward only through this uplink."))
    macvtap_mode = forms.ChoiceField(choices=MacvtapMode.choices, required=False, initial=MacvtapMode.BRIDGE,
                                     label=_("macvtap mode"))
    ipv4_address = forms.CharField(max_length=45, required=False, label=_("IPv4 address of the host"),
                                   help_text=_("The gateway the guests use, e.g. 192.168.100.1."))
    ipv4_prefix = forms.IntegerField(min_value=0, max_value=32, required=False, initial=24, label=_("IPv4 prefix"))
    dhcp_start = forms.CharField(max_length=45, required=False, label=_("DHCP range start"))
    dhcp_end = forms.CharField(max_length=45, required=False, label=_("DHCP range end"))
    static_hosts = forms.CharField(required=False, max_length=100_000, label=_("Static leases"),
                                   widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text=_("One per line: MAC IP [name], e.g. 52:54:00:12:34:56 192.168.100.10 web1."))
    dns_hosts = forms.CharField(required=False, max_length=100_000, label=_("DNS entries"),
                                widget=forms.Textarea(attrs={"rows": 2}),
                                help_text=_("One per line: IP host name; the network's dnsmasq answers them."))
    ipv6_address = forms.CharField(max_length=45, required=False, label=_("IPv6 address of the host"))
    ipv6_prefix = forms.IntegerField(min_value=0, max_value=128, required=False, initial=64, label=_("IPv6 prefix"))
    autostart = forms.BooleanField(required=False, initial=True, label=_("Start with the host"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["static_hosts"] = parse_static_hosts(data.get("static_hosts") or "")
            data["dns_hosts"] = parse_dns_hosts(data.get("dns_hosts") or "")
        except InvalidConfig as exc:
            add_virt_error(self, exc)
            return data
        if not data.get("ipv4_address"):
            data["ipv4_prefix"] = None
        if not data.get("ipv6_address"):
            data["ipv6_prefix"] = None
        if data.get("mode") != NetworkMode.MACVTAP:
            data["macvtap_mode"] = MacvtapMode.BRIDGE
        return data

    def network_fields(self):
        """The keyword arguments of services.create_network."""
        data = {key: value for key, value in self.cleaned_data.items() if value not in ("", None, [])}
        data.pop("host", None)
        return data


class NetworkXMLForm(forms.Form):
    xml = forms.CharField(max_length=1_000_000, strip=False, label=_("XML"),
                          widget=forms.Textarea(attrs={"rows": 24, "class": "form-control font-monospace", "spellcheck": "false",
                                                     "data-xml-editor": "xml"}))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class TraceForm(forms.Form):
    seconds = forms.IntegerField(min_value=1, max_value=60, initial=10, label=_("Seconds"),
                                 widget=forms.NumberInput(attrs={"class": "form-control"}))
    protocol = forms.ChoiceField(choices=[("any", _("any")), *((p, p) for p in ("icmp", "udp", "tcp", "arp"))], initial="any",
                                 label=_("Protocol"), widget=forms.Select(attrs={"class": "form-select"}))
    port = forms.IntegerField(min_value=1, max_value=65535, required=False, label=_("Port"),
                              widget=forms.NumberInput(attrs={"class": "form-control"}))
    address = forms.GenericIPAddressField(required=False, label=_("Address"),
                                          help_text=_("Only packets to or from it; the uplink is the route to it."),
                                          widget=forms.TextInput(attrs={"class": "form-control"}))


class BridgeForm(forms.Form):
    name = forms.CharField(max_length=15, label=_("Bridge name"), widget=forms.TextInput(attrs={"class": "form-control"}))
    uplink = forms.CharField(max_length=15, required=False, label=_("Uplink to enslave"),
                             help_text=_("Its addresses and default route move onto the bridge."),
                             widget=forms.TextInput(attrs={"class": "form-control"}))
    seconds = forms.IntegerField(min_value=10, max_value=600, initial=60, label=_("Undo after (s) unless confirmed"),
                                 widget=forms.NumberInput(attrs={"class": "form-control"}))
