from django import template

register = template.Library()


@register.filter
def filesizeformat_kib(kib):
    """KiB (libvirt's memory unit) in IEC units, as libvirt and admins count memory: 256 MiB, 15.5 GiB."""
    value = float(kib or 0)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024


@register.filter
def seconds_from_ns(ns):
    """Nanoseconds as seconds; a dash where there is no value (a driver that reports none)."""
    if ns is None:
        return "—"
    return f"{ns / 1e9:,.1f} s"
