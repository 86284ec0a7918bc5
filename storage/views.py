"""Storage pages. Lists read the inventory only; forms call storage.services, as the API does."""
import re
from dataclasses import replace
from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.command_preview import CommandPreviewMixin
from core.generic import ObjectDeleteView, ObjectDetailView, ObjectListView, is_htmx
from core.permissions import AdminRequiredMixin, restrict
from hosts.models import Host
from instances.choices import InstanceState
from instances.models import Instance
from virt.errors import VirtError

from . import command_lines, services, transfer
from .actions import DELETE_POOL, DELETE_VOLUME, POOL_ACTIONS
from .choices import POOL_TYPE_CHOICES, PoolState
from .filters import PoolFilterSet, VolumeFilterSet
from .forms import CloneForm, ConvertForm, PoolDeleteForm, PoolForm, PoolTypeForm, ResizeForm, VolumeForm
from .models import StoragePool, Volume


def add_virt_error(form, exc):
    """libvirt's or virtdeck's refusal on the form: under the first field it names, else on top."""
    words = set(re.findall(r"[a-z_]+", exc.message))
    form.add_error(next((field for field in form.fields if field in words), None), exc.message)


class PoolListView(ObjectListView):
    queryset = StoragePool.objects.select_related("host")
    filterset_class = PoolFilterSet
    paginate_by = 100
    extra_context = {"live_topics": "storage"}  # its rows change only with pool and volume events (core/events.py)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = restrict(Host.objects.only("id", "name"), self.request.user)
        context["states"] = PoolState.choices
        context["types"] = POOL_TYPE_CHOICES
        return context


class PoolDetailView(ObjectDetailView):
    queryset = StoragePool.objects.select_related("host")
    object_actions = POOL_ACTIONS
    volumes_shown = 500  # the rest through the volume list, filtered to the pool

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["volumes"] = services.attach_backing_chains(services.attach_synced_users(
            self.object.volumes.all()[:self.volumes_shown], self.request.user))
        context["volume_count"] = self.object.volumes.count()
        return context


class PoolCreateView(AdminRequiredMixin, CommandPreviewMixin, FormView):
    """A new pool in two steps: host and type (only the types the host supports), then that type's fields."""

    template_name = "storage/storagepool_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.hosts = restrict(Host.objects.order_by("name"), request.user)
        host_id = request.GET.get("host", "")
        self.host = self.hosts.filter(pk=host_id).first() if host_id.isdigit() and len(host_id) < 19 else None
        self.capabilities, self.capabilities_error = None, ""
        if self.host is not None:
            try:
                self.capabilities = services.pool_types(self.host)
            except VirtError as exc:
                self.capabilities_error = exc.message
        supported = {support.type: support for support in (self.capabilities.types if self.capabilities else [])}
        self.support = supported.get(request.GET.get("type"))
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return PoolForm if self.support else PoolTypeForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.support:
            kwargs.update(pool_type=self.support.type, source_formats=self.support.source_formats)
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not self.support:
            form.fields["host"].choices = [(host.pk, host.name) for host in self.hosts]
            types = self.capabilities.types if self.capabilities else []
            form.fields["type"].choices = [(support.type, support.type) for support in types]
            form.initial.update(host=self.host.pk if self.host else None)
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(host=self.host, support=self.support, capabilities=self.capabilities,
                       capabilities_error=self.capabilities_error)
        return context

    def post(self, request, *args, **kwargs):
        if not self.support:
            raise Http404(_("Choose a host and a pool type it supports first."))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            pool = services.create_pool(self.host, self.support.type, data["name"], form.pool_fields(),
                                        build=data.get("build", False), start=data["start"],
                                        autostart=data["autostart"])
        except VirtError as exc:
            add_virt_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Pool %(name)s created on %(host)s.") % {"name": pool, "host": self.host})
        return redirect(pool.get_absolute_url())

    def command_lines(self, form):
        if not self.support:  # step one (host and type): nothing to show yet
            return []
        data = form.cleaned_data
        return command_lines.create_pool(self.host, self.support.type, data["name"], form.pool_fields(),
                                         build=data.get("build", False), start=data["start"],
                                         autostart=data["autostart"])


class PoolDeleteView(ObjectDeleteView):
    model = StoragePool
    action = DELETE_POOL

    def get_form_class(self):
        return PoolDeleteForm

    def form_valid(self, form):
        service = partial(services.delete_pool, delete_storage=form.cleaned_data["delete_storage"])
        self.action = replace(DELETE_POOL, service=service)
        return super().form_valid(form)


class VolumeListView(ObjectListView):
    queryset = Volume.objects.select_related("pool__host")
    filterset_class = VolumeFilterSet
    paginate_by = 100
    extra_context = {"live_topics": "storage"}  # its rows change only with pool and volume events (core/events.py)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["hosts"] = restrict(Host.objects.only("id", "name"), self.request.user)
        page = context["page_obj"]
        page.object_list = services.attach_backing_chains(services.attach_synced_users(page.object_list,
                                                                                        self.request.user))
        return context


class VolumeDetailView(ObjectDetailView):
    queryset = Volume.objects.select_related("pool__host")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["dependents"] = services.volume_dependents(self.object)
        context["backing_chain"] = services.backing_chain(self.object)
        context["last_upload"] = transfer.last_upload(self.object)
        context["users"], context["users_error"] = None, ""
        if not is_htmx(self.request):  # live re-fetches read the database only
            try:
                context["users"] = services.volume_users(self.object)
            except VirtError as exc:
                context["users_error"] = exc.message
        return context


class _ObjectFormView(AdminRequiredMixin, FormView):
    """A form about one object of `queryset` (restricted), which goes back to its page when done."""

    queryset = None

    def dispatch(self, request, *args, **kwargs):
        self.object = get_object_or_404(restrict(self.queryset, request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(object=self.object, **kwargs)

    def form_valid(self, form):
        try:
            result = self.perform(form.cleaned_data)
        except VirtError as exc:
            add_virt_error(form, exc)
            return self.form_invalid(form)
        return redirect(result.get_absolute_url())


class VolumeCreateView(CommandPreviewMixin, _ObjectFormView):
    queryset = StoragePool.objects.select_related("host")
    template_name = "storage/volume_form.html"
    form_class = VolumeForm

    def command_lines(self, form):
        data = form.cleaned_data
        return command_lines.create_volume(self.object, data["name"], data["capacity"], data["format"],
                                           data["allocation"])

    def perform(self, data):
        volume = services.create_volume(self.object, data["name"], data["capacity"], data["format"],
                                        data["allocation"])
        messages.success(self.request, _("Volume %(name)s created.") % {"name": volume})
        return volume


class VolumeResizeView(_ObjectFormView):
    queryset = Volume.objects.select_related("pool__host")
    template_name = "storage/volume_resize.html"
    form_class = ResizeForm

    def get_initial(self):
        return {"capacity": self.object.capacity}

    def perform(self, data):
        volume = services.resize_volume(self.object, data["capacity"], shrink=data["shrink"])
        messages.success(self.request, _("Volume %(name)s resized.") % {"name": volume})
        return volume


class VolumeCloneView(CommandPreviewMixin, _ObjectFormView):
    queryset = Volume.objects.select_related("pool__host")
    template_name = "storage/volume_clone.html"
    form_class = CloneForm

    def command_lines(self, form):
        data = form.cleaned_data
        return command_lines.copy_volume(self.object, data["pool"], data["name"], data["format"] or None,
                                         data["allocation"])

    def get_form_kwargs(self):
        pools = restrict(StoragePool.objects.filter(host=self.object.pool.host_id), self.request.user)
        return {**super().get_form_kwargs(), "pools": pools, "initial": {"pool": self.object.pool_id}}

    def perform(self, data):
        job = services.clone_volume(self.object, data["name"], target_pool=data["pool"],
                                    volume_format=data["format"] or None, allocation=data["allocation"],
                                    user=self.request.user)
        messages.success(self.request, _("Copying %(name)s: job #%(job)s.") % {"name": self.object, "job": job.pk})
        return job


class VolumeConvertView(VolumeCloneView):
    template_name = "storage/volume_convert.html"
    form_class = ConvertForm

    def get_form_kwargs(self):
        instances = Instance.objects.filter(host=self.object.pool.host_id, state=InstanceState.SHUTOFF)
        return {**super().get_form_kwargs(), "instances": restrict(instances, self.request.user)}

    def command_lines(self, form):
        data = form.cleaned_data
        name = data["name"] or services.converted_name(self.object, data["format"])
        return command_lines.copy_volume(self.object, data["pool"], name, data["format"], data["allocation"])

    def perform(self, data):
        job = services.convert_volume(self.object, data["format"], data["allocation"], name=data["name"] or None,
                                      target_pool=data["pool"], instance=data["instance"], user=self.request.user)
        messages.success(self.request, _("Converting %(name)s: job #%(job)s.") % {"name": self.object, "job": job.pk})
        return job


class VolumeDeleteView(ObjectDeleteView):
    model = Volume
    action = DELETE_VOLUME

    def get_success_url(self):
        return self.object.pool.get_absolute_url()
