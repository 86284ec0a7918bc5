import uuid

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, View
from django.views.generic.detail import SingleObjectMixin

from core.command_preview import CommandPreviewMixin
from core.generic import ObjectDeleteView, ObjectDetailView, ObjectListView, is_htmx
from core.models import Job
from core.permissions import AdminRequiredMixin, RestrictedQuerysetMixin, restrict
from hosts.models import Host
from instances.models import Instance
from virt.errors import InvalidConfig, VirtError
from virt.xml.parser import parse_untrusted

from . import bridges, command_lines, hostnet, services, tracing
from .actions import ACTIONS, DELETE
from .choices import NetworkMode
from .filters import NetworkFilterSet
from .forms import BridgeForm, NetworkForm, NetworkXMLForm, TraceForm, add_virt_error
from .models import Network
from .tasks import TraceNIC


class NetworkListView(ObjectListView):
    """Reads the inventory only: never calls libvirt."""

    queryset = Network.objects.select_related("host")
    filterset_class = NetworkFilterSet
    paginate_by = 100
    extra_context = {"live_topics": "network"}  # its rows change only with network events (core/events.py)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = restrict(Host.objects.only("id", "name"), self.request.user)
        context["modes"] = NetworkMode.choices
        return context


def _live(read, network):
    """(value, error): a live read for a page that must still render when the host refuses or is down."""
    try:
        return read(network), ""
    except VirtError as exc:
        return None, exc.message


class NetworkDetailView(ObjectDetailView):
    queryset = Network.objects.select_related("host")
    object_actions = ACTIONS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if is_htmx(self.request):  # live re-fetches swap the header only: no libvirt
            return context
        network = self.object
        context["attached"], context["attached_error"] = _live(services.attached, network)
        rows = dict(Instance.objects.filter(host=network.host, uuid__in=[a.uuid for a in context["attached"] or []])
                    .values_list("uuid", "pk"))
        for attachment in context["attached"] or []:
            attachment.instance_id = rows.get(uuid.UUID(attachment.uuid))
        if network.active and network.has_addresses and network.dhcp_ranges:
            context["leases"], context["leases_error"] = _live(services.leases, network)
        context["xml"], context["xml_error"] = _live(services.read_xml, network)
        return context


class NetworkCreateView(AdminRequiredMixin, CommandPreviewMixin, FormView):
    """Create a network: "Preview XML" shows what would be defined (nothing changes); "Create" defines it.
    Beside it, the virsh lines for the same values (core/command_preview.py)."""

    template_name = "networks/network_form.html"
    form_class = NetworkForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["host"].queryset = restrict(form.fields["host"].queryset, self.request.user)
        return form

    def get_initial(self):
        return {"host": self.request.GET.get("host")}

    def form_valid(self, form):
        fields = form.network_fields()
        try:
            if "preview" in self.request.POST:
                return self.render_to_response(self.get_context_data(form=form,
                                                                     preview=services.preview_network(**fields)))
            network = services.create_network(form.cleaned_data["host"], **fields)
        except InvalidConfig as exc:
            add_virt_error(form, exc)
            return self.form_invalid(form)
        except VirtError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Network %(name)s created.") % {"name": network.name})
        return redirect(network.get_absolute_url())

    def command_lines(self, form):
        return command_lines.create(form.cleaned_data["host"], form.network_fields())


class NetworkXMLView(AdminRequiredMixin, FormView):
    """Edit the definition: first a diff to confirm, then libvirt validates and saves it."""

    template_name = "networks/network_xml.html"
    form_class = NetworkXMLForm

    def dispatch(self, request, *args, **kwargs):
        queryset = restrict(Network.objects.select_related("host"), request.user)
        self.network = get_object_or_404(queryset, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        try:
            return {"xml": services.read_xml(self.network)}
        except VirtError as exc:
            messages.error(self.request, exc.message)
            return {}

    def get_context_data(self, **kwargs):
        return super().get_context_data(network=self.network, **kwargs)

    def form_valid(self, form):
        xml = form.cleaned_data["xml"]
        try:
            if not form.cleaned_data["confirmed"]:
                parse_untrusted(xml)  # refuse hostile or malformed XML before showing anything of it
                diff = services.xml_diff(services.read_xml(self.network), xml)
                form = NetworkXMLForm(initial={"xml": xml, "confirmed": True})
                return self.render_to_response(self.get_context_data(form=form, diff=diff))
            network, _diff = services.update_xml(self.network, xml)
        except VirtError as exc:
            form.add_error("xml", exc.message)
            return self.form_invalid(form)
        note = _(" It is running: the change applies when it is stopped and started.") if network.active else ""
        messages.success(self.request, _("Network %(name)s saved.") % {"name": network.name} + note)
        return redirect(network.get_absolute_url())


class NetworkDeleteView(ObjectDeleteView):
    model = Network
    action = DELETE
    confirm_name = True


class HostNetworkingView(ObjectDetailView):
    """A host's interfaces and firewall, read live with fixed commands (hosts with a shell only)."""
    read_action = "host_shell"  # access/rules.py: commands run on the host, even to read, are for admins

    queryset = Host.objects.all()
    template_name = "networks/host_networking.html"
    context_object_name = "host"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["has_shell"] = hostnet.host_has_shell(self.object)
        if context["has_shell"]:
            context["interfaces"], context["interfaces_error"] = _live(hostnet.interfaces, self.object)
            context["firewall"], context["firewall_error"] = _live(hostnet.firewall, self.object)
            context["bridges"], context["bridges_error"] = _live(bridges.list_bridges, self.object)
            context["bridge_form"] = BridgeForm()
        context["networks"] = restrict(Network.objects.filter(host=self.object), self.request.user)
        return context


class NICPathView(ObjectDetailView):
    """A VM NIC's packet path with live counters; a trace form that starts a job (tcpdump on every hop)."""

    queryset = Instance.objects.select_related("host")
    template_name = "networks/nic_path.html"
    context_object_name = "instance"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["mac"] = self.kwargs["mac"]
        context["form"] = kwargs.get("form") or TraceForm(initial={"address": self.request.GET.get("address", "")})
        destination = context["form"].initial.get("address", "")
        try:
            context["hops"], context["note"] = tracing.nic_path(self.object, self.kwargs["mac"], destination)
        except VirtError as exc:
            context["hops"], context["path_error"] = [], exc.message
        job_id = self.request.GET.get("job", "")
        if job_id.isdigit():
            context["trace"] = restrict(Job.objects.filter(kind=TraceNIC.kind), self.request.user).filter(
                pk=int(job_id)).first()
        return context

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = TraceForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        job = services.start_trace(self.object, self.kwargs["mac"], request.user, **form.cleaned_data)
        messages.success(request, _("Trace started: job #%(job)s.") % {"job": job.pk})
        return redirect(f"{request.path}?job={job.pk}")


def trace_pcap(request, job_id, index):
    """One hop's capture of a trace job, as a pcap file (Wireshark reads it)."""
    job = get_object_or_404(restrict(Job.objects.filter(kind=TraceNIC.kind), request.user), pk=job_id)
    path = tracing.trace_dir(job.pk) / f"{int(index)}.pcap"
    if not path.is_file():
        raise Http404(_("No capture for this hop."))
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"trace-{job.pk}-hop{index}.pcap",
                        content_type="application/vnd.tcpdump.pcap")


class HostBridgeActionView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """POST: create (name, uplink, seconds), confirm or delete a host bridge; back to the host's networking."""

    http_method_names = ["post"]
    queryset = Host.objects.all()
    operation = ""

    def post(self, request, pk, name=""):
        host = self.get_object()
        try:
            if self.operation == "create":
                form = BridgeForm(request.POST)
                if not form.is_valid():
                    raise InvalidConfig("; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
                data = form.cleaned_data
                needed = bridges.create_bridge(host, data["name"], data["uplink"] or None, data["seconds"])
                name = data["name"]
            elif self.operation == "confirm":
                bridges.confirm(host, name)
                needed = False
            else:
                needed = bridges.delete_bridge(host, name)
        except VirtError as exc:
            messages.error(request, exc.message)
            return redirect("networks:host_networking", pk=host.pk)
        if needed:
            messages.warning(request, _("The change to bridge %(name)s is applied and will be undone by itself "
                                        "unless you confirm it: reload this page and press Confirm. If the page "
                                        "does not load, wait: the host puts its network back.") % {"name": name})
        else:
            messages.success(request, _("Bridge %(name)s: done.") % {"name": name})
        return redirect("networks:host_networking", pk=host.pk)
