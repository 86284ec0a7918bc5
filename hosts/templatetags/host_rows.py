"""{% load host_rows %}: what the host list and the dashboard draw on every host's row (200 rows at 200 hosts):
tags rather than includes (an include copies the context each time), their labels translated once per page."""
from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.templatetags.virtdeck import state_badge, translated_once

register = template.Library()

# "stale" (up, not confirmed lately) is not one of Host.State's choices, so the badges' labels are here.
_STATE_LABELS = {
    "up": pgettext_lazy("host state", "up"),
    "stale": pgettext_lazy("host state", "stale"),
    "unreachable": pgettext_lazy("host state", "unreachable"),
    "unknown": pgettext_lazy("host state", "unknown"),
}

_COUNT_LABELS = {
    "running": gettext_lazy("running"),
    "paused": gettext_lazy("paused"),
    "shut off": gettext_lazy("shut off"),
    "total": gettext_lazy("total"),
    "running_count": gettext_lazy("%(count)s running"),
    "paused_count": gettext_lazy("%(count)s paused"),
    "shutoff_count": gettext_lazy("%(count)s shut off"),
    "vm_count": gettext_lazy("(%(count)s in all)"),
}


@register.simple_tag(takes_context=True)
def host_state_badge(context, host):
    """The badge of the host's state as users should read it (Host.display_state: "stale" when up but not
    synced lately)."""
    state = host.display_state
    labels = translated_once(context, _STATE_LABELS)
    return state_badge(state, labels.get(state, labels["unknown"]))


@register.simple_tag(takes_context=True)
def instance_counts(context, host):
    """The host's VMs by state, from the counts its queryset annotates (hosts.querysets.with_instance_counts,
    dashboard.queries.hosts): "3 running · 1 paused · 2 shut off (6 in all)"."""
    labels = translated_once(context, _COUNT_LABELS)
    return format_html(
        '<span class="text-success" title="{}">{}</span> · <span class="{}" title="{}">{}</span> · '
        '<span class="text-body-secondary" title="{}">{}</span> <span class="small text-body-secondary" '
        'title="{}">{}</span>',
        labels["running"], labels["running_count"] % {"count": host.running_count},
        "text-warning" if host.paused_count else "text-body-secondary",
        labels["paused"], labels["paused_count"] % {"count": host.paused_count},
        labels["shut off"], labels["shutoff_count"] % {"count": host.shutoff_count},
        labels["total"], labels["vm_count"] % {"count": host.vm_count})
