from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


@register.filter
def filesizeformat_kib(kib):
    """KiB (libvirt's memory unit) as a human size."""
    return filesizeformat((kib or 0) * 1024)


@register.filter
def seconds_from_ns(ns):
    return f"{(ns or 0) / 1e9:,.1f} s"
