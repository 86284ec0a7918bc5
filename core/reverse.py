"""reverse() for the one-id routes a list draws on every row: resolved once per route, then the id put in.

A 100-row list page asks for a few hundred URLs of the same few patterns (each VM's page, its host's, its
buttons); Django's reverse() walks the resolver for each of them.
"""
from django.urls import get_script_prefix, get_urlconf, reverse

# An id no real row has, replaced in the resolved URL; digits only, so it matches any int converter.
_PLACEHOLDER = 987654321987
_patterns = {}


def reverse_pk(name, pk):
    """reverse(name, args=[pk]) for a route whose only argument is an integer id."""
    key = (get_urlconf(), get_script_prefix(), name)
    if key not in _patterns:
        _patterns[key] = reverse(name, args=[_PLACEHOLDER])
    return _patterns[key].replace(str(_PLACEHOLDER), str(int(pk)))
