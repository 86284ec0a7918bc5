"""Sorting lists by any column, the same on every list page and list API (`?ordering=col` or `-col`).

A filter set declares its columns with SortFilter, django-filter's OrderingFilter plus:
- computed columns (`computed={"memory_used": <expression>}`): annotated under that name only when a list
  is sorted by them, for what is shown but not stored (a percentage, a JSON value as text);
- the same order on SQLite and PostgreSQL: empty values (NULL) last both ways (SQLite puts them first
  when ascending, PostgreSQL last), then the primary key, so that equal values never make pages skip or
  repeat rows.
"""
import django_filters
from django.db.models import F


class SortFilter(django_filters.OrderingFilter):
    def __init__(self, *args, computed=None, **kwargs):
        self.computed = dict(computed or {})
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        names = [self.get_ordering_value(param) for param in value or () if param]  # ",,," holds empty ones
        if not names:
            return qs
        needed = {name.lstrip("-") for name in names} & set(self.computed)
        if needed:
            qs = qs.annotate(**{name: self.computed[name] for name in needed})
        order = [F(name[1:]).desc(nulls_last=True) if name.startswith("-") else F(name).asc(nulls_last=True)
                 for name in names]
        if not {"pk", "-pk", "id", "-id"} & set(names):
            order.append(F("pk").asc())
        return qs.order_by(*order)


def declared_ordering(value, columns):
    """The `?ordering=` value with only the declared `columns` kept ("" if none is): a page ignores a column
    it does not sort by (an old bookmark, a hand-edited URL) instead of listing nothing."""
    keys = [key.strip() for key in value.split(",")]
    return ",".join(key for key in keys if key.lstrip("-") in columns)
