from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """?limit=&offset=, at most 1,000 rows a page (a huge limit would overflow the database's integers)."""

    max_limit = 1000
