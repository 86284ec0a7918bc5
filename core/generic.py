"""Generic pages an app configures rather than rewrites: list, detail, action, delete.

    class HostListView(ObjectListView):
        queryset = Host.objects.all()
        filterset_class = HostFilterSet      # filters and sortable columns, the same as /api/hosts/

    class HostDetailView(ObjectDetailView):
        queryset = Host.objects.all()
        object_actions = ACTIONS             # the buttons ({% include "core/_action_buttons.html" %})

    urlpatterns = [..., *action_urls(Host, ACTIONS)]   # POST <pk>/refresh/ named hosts:host_refresh

Templates default to Django's names: <app>/<model>_list.html, _detail.html, _confirm_delete.html (the last
falls back to core/object_confirm_delete.html). Every queryset goes through core.permissions.
"""
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.generic import DeleteView, DetailView, View
from django.views.generic.detail import SingleObjectMixin
from django_filters.views import FilterView

from virt.errors import VirtError

from .actions import Action
from .forms import ConfirmNameForm
from .models import Job, UserPreference
from .permissions import RestrictedQuerysetMixin, permitted_actions
from .sorting import declared_ordering

ORDERING_PARAM = "ordering"
PAGE_SIZES = (25, 50, 100, 250, 500, 1000)  # what the list pages offer; ?per_page= takes any size up to the max


def sortable_columns(filterset):
    """{?ordering= key: model field} declared by the filter set's (or filter set class's) OrderingFilter (none
    without one)."""
    ordering = filterset.base_filters.get(ORDERING_PARAM)
    if isinstance(ordering, django_filters.OrderingFilter):
        return dict(ordering.param_map)
    return {}


def is_htmx(request):
    return request.headers.get("HX-Request") == "true"


def redirect(request, url):
    """A redirect; htmx requests get HX-Redirect, so the whole page goes there (and shows the messages)."""
    if is_htmx(request):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def next_url(request, fallback):
    """Where a POST goes back to: the form's `next` when it is on this site, else `fallback`."""
    candidate = request.POST.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return fallback


def action_url_name(model, action):
    """<app>:<model>_<action>, e.g. hosts:host_refresh."""
    return f"{model._meta.app_label}:{model._meta.model_name}_{action.name}"


class ObjectListView(RestrictedQuerysetMixin, FilterView):
    """A filtered, sorted, paged list.

    Ordering is the filter set's OrderingFilter (`?ordering=`, only its declared columns; any other is ignored:
    the default order). `?per_page=` changes the page size up to `max_paginate_by`. A page number past the end
    shows the last page, a malformed one or one below 1 the first: never a 404. Context adds `sort_keys`
    (the sortable columns, for core/_sort_header.html) and `ordering` (the current one).
    """

    template_name_suffix = "_list"
    paginate_by = 50
    max_paginate_by = 1000
    page_size_kwarg = "per_page"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        data = kwargs["data"]
        if data is not None and ORDERING_PARAM in data:
            data = kwargs["data"] = data.copy()
            kept = declared_ordering(data.get(ORDERING_PARAM, ""), sortable_columns(filterset_class))
            if kept:
                data[ORDERING_PARAM] = kept
            else:
                del data[ORDERING_PARAM]
        return kwargs

    def get_paginate_by(self, queryset):
        """`?per_page=` (1 to max_paginate_by), remembered for the user; else what they chose last; else the
        view's default."""
        user = self.request.user
        try:
            size = int(self.request.GET.get(self.page_size_kwarg, ""))
        except ValueError:
            size = 0
        if size > 0:
            size = min(size, self.max_paginate_by)
            if user.is_authenticated:
                UserPreference.objects.update_or_create(user=user, defaults={"page_size": size})
            return size
        if user.is_authenticated:
            chosen = UserPreference.objects.filter(user=user).values_list("page_size", flat=True).first()
            if chosen:
                return min(chosen, self.max_paginate_by)
        return self.paginate_by

    def known_count(self):
        """How many rows the filtered list holds, when the view knows it without counting them (a COUNT grows
        with the table); None: count."""
        return None

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size, orphans=self.get_paginate_orphans(),
                                       allow_empty_first_page=self.get_allow_empty())
        known = self.known_count()
        if known is not None:
            paginator.count = known  # a cached_property: set, it is never computed
        try:
            number = max(1, int(self.request.GET.get(self.page_kwarg) or 1))
        except ValueError:
            number = 1
        page = paginator.get_page(number)  # past the end: the last page
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sort_keys"] = sortable_columns(self.filterset)
        context["ordering"] = self.filterset.data.get(ORDERING_PARAM, "")
        context["page_sizes"] = PAGE_SIZES
        return context


@dataclass(frozen=True)
class BoundAction:
    """An action of one object, for its page: where to POST it and whether its state allows it now."""

    action: Action
    url: str
    allowed: bool


def bound_actions(obj, actions):
    return [BoundAction(action, reverse(action_url_name(type(obj), action), args=[obj.pk]), action.is_allowed(obj))
            for action in actions]


class ObjectDetailView(RestrictedQuerysetMixin, DetailView):
    """One object; context `actions` holds its `object_actions` (see core/_action_buttons.html)."""

    object_actions = ()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actions = permitted_actions(self.object, self.object_actions, self.request.user)
        context["actions"] = bound_actions(self.object, actions)
        return context


class ObjectActionView(RestrictedQuerysetMixin, SingleObjectMixin, View):
    """POST only (CSRF checked by Django): run `action` on the object, say how it went, go back.

    Back is the form's `next` (same site only), else the object's page; an action with `show_job` goes to
    the job it started. A VirtError (libvirt refused, host down, wrong state) is an error message, not a 500.
    """

    http_method_names = ["post"]
    action = None

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        try:
            result = self.action.perform(self.object, request.user)
        except VirtError as exc:
            messages.error(request, self.action.error_message(self.object, exc))
            return redirect(request, self.get_back_url())
        job = result if isinstance(result, Job) else None
        request.job_id = job.pk if job is not None else None  # for the audit log
        messages.success(request, self.action.success_message(self.object, job))
        if job is not None and self.action.show_job:
            return redirect(request, job.get_absolute_url())
        return redirect(request, self.get_back_url())

    def get_back_url(self):
        return next_url(self.request, self.object.get_absolute_url())


def action_urls(model, actions, view=ObjectActionView):
    """The page routes of `actions`: POST <pk>/<name>/ named <model>_<name>, for an app's urlpatterns."""
    return [path(f"<int:pk>/{action.name}/", view.as_view(model=model, action=action),
                 name=f"{model._meta.model_name}_{action.name}") for action in actions]


class ObjectDeleteView(RestrictedQuerysetMixin, DeleteView):
    """A confirmation page, then `action` (its service removes the object; default: the model's delete()).

    With `confirm_name`, the user must type the object's `confirm_field` first. A VirtError is shown on the
    confirmation page and nothing is removed. Then back to `success_url` (default <app>:<model>_list).
    """

    action = None
    permission_action = "delete"  # core/permissions.py: what the user must be allowed on the object
    confirm_name = False
    confirm_field = "name"

    def get_template_names(self):
        return [*super().get_template_names(), "core/object_confirm_delete.html"]

    def get_form_class(self):
        return ConfirmNameForm if self.confirm_name else forms.Form

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.confirm_name:
            kwargs["expected"] = str(getattr(self.object, self.confirm_field))
        return kwargs

    def form_valid(self, form):
        obj, name = self.object, str(self.object)
        try:
            result = self.action.perform(obj, self.request.user) if self.action else obj.delete()
        except VirtError as exc:
            form.add_error(None, self.action.error_message(obj, exc) if self.action else exc.message)
            return self.form_invalid(form)
        job = result if isinstance(result, Job) else None
        self.request.job_id = job.pk if job is not None else None  # for the audit log
        if self.action:
            messages.success(self.request, self.action.success_message(name, job))
        else:
            messages.success(self.request, gettext("%(object)s deleted.") % {"object": name})
        if job is not None and self.action.show_job:
            return HttpResponseRedirect(job.get_absolute_url())
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        if self.success_url:
            return str(self.success_url)
        meta = self.model._meta if self.model else self.object._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_list")
