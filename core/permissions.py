"""Which objects a user may see and act on: the one seam every generic view and viewset queryset passes."""


def restrict(queryset, user, action="view"):
    """The part of `queryset` that `user` may `action` ("view", or an action's name).

    Today every logged-in user may do everything (the login itself is checked by LoginRequiredMiddleware and
    DRF's IsAuthenticated). Scoped roles go here, and every list, page, action and API route follows.
    """
    return queryset


# For views and viewsets: their queryset always goes through `restrict_queryset`. (A comment, not a docstring:
# the API schema would show a docstring on every route.)
class RestrictedQuerysetMixin:
    def get_queryset(self):
        return self.restrict_queryset(super().get_queryset())

    def restrict_queryset(self, queryset):
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        return restrict(queryset, getattr(request, "user", None))
