"""The SSH steps of adding a host: fetch the host's key to confirm, generate a key pair for virtdeck, and accept
a host key that changed. The first two answer the add-host form's htmx requests with a fragment."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.permissions import AdminRequiredMixin, restrict
from virt.errors import VirtError

from . import host_keys, services
from .models import Host


def carried_ssh_steps(request):
    """The fetched host key and generated key pair a form sent back (shown again when it has errors)."""
    context = {}
    if request.method != "POST":
        return context
    try:
        if request.POST.get("ssh_host_key_token"):
            offered = host_keys.offered_from_token(request.POST["ssh_host_key_token"], request.POST.get("uri", ""))
            context["host_key"] = {"offered": offered, "token": request.POST["ssh_host_key_token"],
                                   "confirmed": bool(request.POST.get("confirm_host_key"))}
    except VirtError:
        pass  # expired, altered or for another URI: the form's error says so, the admin fetches again
    if request.POST.get("generated_key_token"):
        try:
            private_key = host_keys.private_key_from_token(request.POST["generated_key_token"])
            context["key_pair"] = {"public_key": host_keys.public_line(private_key),
                                   "token": request.POST["generated_key_token"]}
        except VirtError:
            pass
    return context


class AdminOnly(AdminRequiredMixin):
    """Admins only: fetching a key makes virtdeck connect to any address and port it can reach."""


class HostKeyFetchView(AdminOnly, View):
    """POST uri: the key the host offers, its fingerprint, and a signed token for the form to pin it with."""

    def post(self, request):
        context = {}
        try:
            offered = host_keys.fetch_for_uri(request.POST.get("uri", ""))
            context.update(offered=offered, token=host_keys.offer_token(offered))
        except VirtError as exc:
            context["error"] = exc.message
        return render(request, "hosts/_ssh_host_key.html", context)


class KeyPairView(AdminOnly, View):
    """POST: a new key pair; the page shows the public line, the private key travels encrypted with the form."""

    def post(self, request):
        private_key, public_key = host_keys.generate_key_pair()
        return render(request, "hosts/_ssh_key_pair.html",
                      {"public_key": public_key, "token": host_keys.private_key_token(private_key)})


class HostKeyAcceptView(AdminOnly, View):
    """A host whose SSH key changed: the pinned and offered fingerprints side by side; POST pins the new key
    (the one shown, carried signed) and connects with it."""

    template_name = "hosts/host_key_accept.html"

    def get_host(self):
        return get_object_or_404(restrict(Host.objects.all(), self.request.user), pk=self.kwargs["pk"])

    def get(self, request, pk):
        host = self.get_host()
        context = {"host": host}
        try:
            hostname, port = host_keys.ssh_target(host.uri)
            offered = host_keys.fetch(hostname, port)
            context.update(offered=offered, token=host_keys.offer_token(offered),
                           pinned=host_keys.pinned_fingerprints(host.ssh_known_hosts, hostname, port))
        except VirtError as exc:
            context["error"] = exc.message
        return render(request, self.template_name, context)

    def post(self, request, pk):
        host = self.get_host()
        try:
            offered = host_keys.offered_from_token(request.POST.get("token", ""), host.uri)
            if not request.POST.get("confirm_host_key"):
                messages.error(request, _("Confirm that %(fingerprint)s is the host's own key to accept it.")
                               % {"fingerprint": offered.fingerprint})
                return redirect("hosts:host_key_accept", pk=host.pk)
            services.accept_host_key(host, offered)
        except VirtError as exc:
            messages.error(request, _("The new key was not pinned: %(error)s") % {"error": exc.message})
            return redirect("hosts:host_key_accept", pk=host.pk)
        messages.success(request, _("%(host)s: SSH host key %(fingerprint)s pinned; the host is reachable.")
                         % {"host": host.name, "fingerprint": offered.fingerprint})
        return redirect(host.get_absolute_url())
