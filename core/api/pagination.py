from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """?limit=&offset=, at most 1,000 rows a page (a huge limit would overflow the database's integers)."""

    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    def get_count(self, queryset):
        """The view's known_count() (see core.generic.ObjectListView) when it has one, else a COUNT."""
        known = getattr(self.view, "known_count", lambda: None)()
        return super().get_count(queryset) if known is None else known
