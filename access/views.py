"""Users, groups and grants pages: admins only (core.permissions.AdminRequiredMixin)."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import FormView

from core.generic import ObjectDeleteView, ObjectListView
from core.permissions import AdminRequiredMixin, restrict

from . import services
from .filters import GrantFilterSet, GroupFilterSet, UserFilterSet
from .forms import GrantForm, GroupForm, UserForm
from .models import Grant


class UserListView(AdminRequiredMixin, ObjectListView):
    queryset = services.users()
    filterset_class = UserFilterSet
    template_name = "access/user_list.html"


class _EditView(AdminRequiredMixin, FormView):
    """Add (no pk) or edit one object of `model`; the form's extra fields go to the service."""

    model = None
    list_url = None

    def dispatch(self, request, *args, **kwargs):
        pk = kwargs.get("pk")
        self.object = get_object_or_404(restrict(self.model.objects.all(), request.user), pk=pk) if pk else None
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "object": self.object, "list_url": reverse(self.list_url)}

    def form_valid(self, form):
        try:
            obj = self.save(form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("%(object)s saved.") % {"object": obj})
        return redirect(self.list_url)


class UserFormView(_EditView):
    model = get_user_model()
    form_class = UserForm
    template_name = "access/user_form.html"
    list_url = "access:user_list"

    def get_initial(self):
        return {"groups": list(self.object.groups.all())} if self.object else {}

    def save(self, form):
        data = form.cleaned_data
        return services.save_user(form.save(commit=False), password=data["password"], groups=data["groups"])


class UserDeleteView(AdminRequiredMixin, ObjectDeleteView):
    queryset = get_user_model().objects.all()
    success_url = reverse_lazy("access:user_list")
    confirm_field = "username"

    def form_valid(self, form):
        try:
            services.delete_user(self.object, self.request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("%(object)s deleted.") % {"object": self.object})
        return redirect(self.success_url)


class GroupListView(AdminRequiredMixin, ObjectListView):
    queryset = Group.objects.prefetch_related("user_set").order_by("name")
    filterset_class = GroupFilterSet
    template_name = "access/group_list.html"


class GroupFormView(_EditView):
    model = Group
    form_class = GroupForm
    template_name = "access/user_form.html"
    list_url = "access:group_list"

    def get_initial(self):
        return {"members": list(self.object.user_set.all())} if self.object else {}

    def save(self, form):
        return services.save_group(form.save(commit=False), members=form.cleaned_data["members"])


class GroupDeleteView(AdminRequiredMixin, ObjectDeleteView):
    queryset = Group.objects.all()
    success_url = reverse_lazy("access:group_list")


class GrantListView(AdminRequiredMixin, ObjectListView):
    """Every grant, and the form that adds one."""

    queryset = Grant.objects.select_related("user", "group", "host", "instance__host")
    filterset_class = GrantFilterSet
    template_name = "access/grant_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "form": kwargs.get("form") or GrantForm()}


class GrantCreateView(_EditView):
    model = Grant
    form_class = GrantForm
    template_name = "access/user_form.html"
    list_url = "access:grant_list"

    def save(self, form):
        return services.save_grant(form.save(commit=False))


class GrantDeleteView(AdminRequiredMixin, ObjectDeleteView):
    queryset = Grant.objects.all()
    success_url = reverse_lazy("access:grant_list")
