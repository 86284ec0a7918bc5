"""Which objects a user may see and act on: the one seam every generic view and viewset queryset passes.

The rules themselves (roles, grants, which action needs which capability) live in access/rules.py.
"""
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.permissions import BasePermission

from access import rules

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# DRF's own viewset methods, in the words of access/rules.py.
VIEWSET_WRITES = {"create": "create", "update": "change", "partial_update": "change", "destroy": "delete"}


def restrict(queryset, user, action="view"):
    """The part of `queryset` that `user` may `action` ("view", an Action's name, "create", "change", "delete")."""
    return rules.restrict(queryset, user, action)


def is_admin(user):
    return rules.is_admin(user)


def may_create(user, model):
    return rules.may_create(user, model)


def share_clone(user, source, clone):
    return rules.share_clone(user, source, clone)


def may(obj, user, action):
    """Whether `user` may `action` the object `obj`: what a page asks before it shows a form. Remembered on the
    user object, which lives for one request."""
    if is_admin(user):
        return True
    key = (type(obj), obj.pk, action)
    known = user.__dict__.setdefault("_virtdeck_may", {})
    if key not in known:
        known[key] = restrict(type(obj).objects.filter(pk=obj.pk), user, action).exists()
    return known[key]


def get_permitted_object(queryset, user, action, **lookup):
    """The object of `queryset` matching `lookup` if `user` may `action` it; 403 if they may only see it, 404
    if not even that (for views that are no RestrictedQuerysetMixin)."""
    obj = restrict(queryset, user, action).filter(**lookup).first()
    if obj is not None:
        return obj
    if action != "view" and restrict(queryset, user).filter(**lookup).exists():
        raise PermissionDenied
    raise Http404


def permitted_actions(obj, actions, user):
    """The `actions` (core.actions.Action) that `user` may do on `obj`: the buttons a page shows them."""
    if is_admin(user):
        return list(actions)
    one = type(obj).objects.filter(pk=obj.pk)
    return [action for action in actions if restrict(one, user, action.name).exists()]


def request_action(view):
    """What a view's request asks to do to its object, in access/rules.py's words.

    Reads are the view's `read_action` ("view" unless it names another: a console page needs "console").
    A write is the view's `permission_action` if it names one, else its Action's name (generic action pages),
    else the viewset method ("start", or "change" for a PATCH), else "change": a write nobody named needs the
    `edit` capability on a VM and is an admin's anywhere else.
    """
    request = getattr(view, "request", None)
    if request is None or getattr(view, "_only_view", False):
        return "view"
    if request.method in SAFE_METHODS:
        return getattr(view, "read_action", "view")
    named = getattr(view, "permission_action", None)
    if named:
        return named
    action = getattr(view, "action", None)
    if action is not None and hasattr(action, "name"):  # a core.actions.Action
        return action.name
    if isinstance(action, str):  # a viewset method; instances' force off is `destroy_action` (core/api/views.py)
        return VIEWSET_WRITES.get(action, action.removesuffix("_action"))
    if getattr(view, "delete_action", None) is not None or request.method == "DELETE":
        return "delete"
    return "change"


# For views and viewsets: their queryset always goes through `restrict_queryset`, for the action the request
# asks. An object the user may see but not act on so answers 403; one they may not see, 404, before anything
# else is read. A viewset's create asks may_create first. (A comment, not a docstring: the API schema would show
# a docstring on every route.)
class RestrictedQuerysetMixin:
    permission_action = None
    read_action = "view"

    def get_queryset(self):
        return self.restrict_queryset(super().get_queryset())

    def restrict_queryset(self, queryset, action=None):
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        return restrict(queryset, getattr(request, "user", None), action or request_action(self))

    def get_object(self, *args, **kwargs):
        try:
            return super().get_object(*args, **kwargs)
        except Http404:
            if request_action(self) == "view" or not self._visible(*args, **kwargs):
                raise
            raise PermissionDenied from None

    def _visible(self, *args, **kwargs):
        self._only_view = True
        try:
            super().get_object(*args, **kwargs)
            return True
        except Http404:
            return False
        finally:
            del self._only_view

    def check_permissions(self, request):  # DRF views only: before the handler, after authentication
        super().check_permissions(request)
        if request_action(self) == "create" and not may_create(request.user, self.get_queryset().model):
            raise PermissionDenied
        if (self.lookup_url_kwarg or self.lookup_field) in self.kwargs:
            # The object first: another's object is 404 before its body is read (a 400 would say it exists).
            self.get_object()


class VisibleChoices:
    """For a django-filter model choice filter: only the objects the request's user may see are choices, so
    filtering by another's object is an invalid choice (400), as for one that does not exist."""

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), getattr(request, "user", None))


class AdminRequiredMixin(UserPassesTestMixin):
    """Pages for admins only (adding and changing hosts, networks, pools and volumes; users and grants).
    Others get 404 on a page about an object (as for objects they may not see), 403 elsewhere."""

    def test_func(self):
        return is_admin(self.request.user)

    def handle_no_permission(self):
        if self.request.user.is_authenticated and self.kwargs:
            raise Http404
        return super().handle_no_permission()


class IsAdmin(BasePermission):
    """DRF: admins only (a route with no object to scope, such as the Prometheus exposition of every host)."""

    def has_permission(self, request, view):
        if not is_admin(request.user) and request.user.is_authenticated and getattr(view, "kwargs", None):
            raise Http404  # a route about an object: as for objects the user may not see
        return is_admin(request.user)
