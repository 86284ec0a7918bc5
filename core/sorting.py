"""Sorting lists by any column, the same on every list page and list API (`?ordering=col` or `-col`).

A filter set declares its columns with SortFilter, django-filter's OrderingFilter plus:
- computed columns (`computed={"memory_used": <expression>}`): annotated under that name only when a list
  is sorted by them, for what is shown but not stored (a percentage, a JSON value as text);
- the same order on SQLite and PostgreSQL: empty values (NULL) last both ways (SQLite puts them first
  when ascending, PostgreSQL last), then the primary key, so that equal values never make pages skip or
  repeat rows;
- one page costs the same whatever the table's size (bench/fleet.py): the primary key follows the last
  column's direction and NULLS LAST is said only of columns that can be NULL, so that `ORDER BY col, pk` is
  the order of an index on (col, pk) read forwards or backwards, and a page reads its rows and no others
  (with NULLS LAST on a NOT NULL column, or `col DESC, pk ASC`, both databases sort the whole table).
"""
import django_filters
from django.core.exceptions import FieldDoesNotExist
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
        order = []
        for name in names:
            field = name.lstrip("-")
            nulls_last = True if field in self.computed or nullable(qs.model, field) else None
            column = F(field)
            descending = name.startswith("-")
            order.append(column.desc(nulls_last=nulls_last) if descending else column.asc(nulls_last=nulls_last))
        if not {"pk", "-pk", "id", "-id"} & set(names):
            order.append(F("pk").desc() if names[-1].startswith("-") else F("pk").asc())
        return qs.order_by(*order)


def nullable(model, path):
    """Whether the column at `path` ("memory_kib", "host__name") can be NULL: through a nullable relation too.
    An unknown path counts as nullable (NULLS LAST is then only unneeded)."""
    *relations, last = path.split("__")
    try:
        for name in relations:
            field = model._meta.get_field(name)
            if field.null or not field.is_relation or field.related_model is None:
                return True
            model = field.related_model
        return model._meta.get_field(last).null
    except FieldDoesNotExist:
        return True


def declared_ordering(value, columns):
    """The `?ordering=` value with only the declared `columns` kept ("" if none is): a page ignores a column
    it does not sort by (an old bookmark, a hand-edited URL) instead of listing nothing."""
    keys = [key.strip() for key in value.split(",")]
    return ",".join(key for key in keys if key.lstrip("-") in columns)
