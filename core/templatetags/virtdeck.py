import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.template.base import token_kwargs
from django.utils.formats import localize
from django.db import models
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

register = template.Library()


@register.filter
def json_data(value):
    """`value` as JSON for a data- attribute (escaped there like any attribute). Page scripts read their
    figures this way inside live regions: htmx drops <script> elements it swaps in (script tags are off under
    the CSP), json_script's included."""
    return json.dumps(value, cls=DjangoJSONEncoder)


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


LIVE_REGION_TAGS = {"div", "span", "section", "tbody"}


@register.tag
def live_region(parser, token):
    """A part of the page that re-fetches itself on every websocket event (static/js/live.js):

        {% live_region "host-table" class="card" %}...{% endlive_region %}

    renders <div id="host-table" class="card" hx-get="<this page>" hx-trigger="live from:body"
    hx-select="#host-table" hx-swap="outerHTML">...</div>; tag="span" for an inline region.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} needs the region's id")
    options = token_kwargs(bits[2:], parser)
    if len(options) != len(bits) - 2 or set(options) - {"tag", "class"}:
        raise template.TemplateSyntaxError(f"{bits[0]} takes an id, then only tag= and class=")
    nodelist = parser.parse(("endlive_region",))
    parser.delete_first_token()
    return LiveRegionNode(parser.compile_filter(bits[1]), options, nodelist)


class LiveRegionNode(template.Node):
    def __init__(self, region_id, options, nodelist):
        self.region_id = region_id
        self.options = options
        self.nodelist = nodelist

    def render(self, context):
        region_id = str(self.region_id.resolve(context))
        options = {key: value.resolve(context) for key, value in self.options.items()}
        tag = options.get("tag", "div")
        if tag not in LIVE_REGION_TAGS:
            raise template.TemplateSyntaxError(f"live_region: tag must be one of {sorted(LIVE_REGION_TAGS)}")
        attrs = {"id": region_id, "class": options.get("class") or None,
                 "hx-get": context["request"].get_full_path(), "hx-trigger": "live from:body",
                 "hx-select": f"#{region_id}", "hx-swap": "outerHTML"}
        # escape(), not flatatt's conditional escaping: a template's string literals count as safe.
        rendered = mark_safe("".join(f' {key}="{escape(value)}"' for key, value in attrs.items() if value))  # nosec B308 B703
        return format_html("<{}{}>{}</{}>", tag, rendered, self.nodelist.render(context), tag)


@register.filter
def minutes(delta):
    """A timedelta as whole minutes, rounded up (a wait of 14 min 30 s reads 15)."""
    if delta is None:
        return ""
    return max(1, -(-int(delta.total_seconds()) // 60))


@register.simple_tag(takes_context=True)
def may(context, obj, action):
    """{% may instance "snapshots" as may_snapshot %}: whether the request's user may do `action` to `obj`
    (core.permissions.may), so a page shows a form only to those whose submit would not be refused."""
    from core.permissions import may as user_may

    request = context.get("request")
    return request is not None and user_may(obj, request.user, action)


def translated_once(context, labels):
    """`labels` (a dict of lazy translations, built once at import) as text in the page's language, looked up at
    the first row of a page and kept for the rest of its render: a tag drawn on each of 200 rows would otherwise
    look up every label 200 times (3-5 µs each: 6-9 ms of the dashboard at 200 hosts)."""
    key = id(labels)
    if key not in context.render_context:
        context.render_context[key] = {name: str(text) for name, text in labels.items()}
    return context.render_context[key]


@register.simple_tag
def filter_options(choices, chosen):
    """A list page's filter <option>s: `choices` are (value, label) pairs or model rows (their pk and str()),
    those whose value is `chosen` (the filter form field's value: a string, a list of them, or None) selected.
    A tag: a template loop over a 200-host filter costs a list page about 6 ms."""
    if isinstance(chosen, str):
        chosen = [chosen]
    chosen = {str(value) for value in chosen or ()}
    pairs = ((choice.pk, str(choice)) if isinstance(choice, models.Model) else choice for choice in choices)
    return format_html_join("", '<option value="{}"{}>{}</option>',
                            ((value, " selected" if str(value) in chosen else "", label) for value, label in pairs))


@register.simple_tag
def fill(message, **values):
    """{% translate "Select %(name)s" as select %} once, then {% fill select name=vm.name %} in each row: what
    blocktranslate gives, without a catalog lookup and context copy per row (a third of a 100-row list's time).
    The result is escaped like any tag's output."""
    return message % values


_BADGE_COLOURS = {
    **dict.fromkeys(("running", "up", "succeeded"), "success"),
    **dict.fromkeys(("paused", "stale", "queued", "pmsuspended", "blocked"), "warning"),
    **dict.fromkeys(("crashed", "unreachable", "failed"), "danger"),
    "running_job": "primary",
}


@register.simple_tag
def state_badge(state, label=""):
    """A state's badge, coloured by the state (templates/core/_state_badge.html includes it): a tag, since a list
    draws one per row and an include costs a context copy each."""
    from django.utils.translation import pgettext

    text = label or (pgettext("job status", "running") if state == "running_job" else state)
    return format_html('<span class="badge text-bg-{}">{}</span>', _BADGE_COLOURS.get(state, "secondary"), text)


_USE_BAR_LABELS = {"title": gettext_lazy("%(percent)s %% of %(total)s")}


@register.simple_tag(takes_context=True)
def use_bar(context, percent, total):
    """A bar of how much of something is in use (a host's memory, its storage), red from 90 %, amber from 75 %,
    "percent % of total" as its title; a dash when the percentage is unknown (None). A tag: the dashboard draws
    two per host."""
    if percent is None:
        return "—"
    colour = " bg-danger" if percent >= 90 else " bg-warning" if percent >= 75 else ""
    title = translated_once(context, _USE_BAR_LABELS)["title"] % {"percent": localize(percent), "total": total}
    return format_html('<div class="progress" style="height: .9rem; min-width: 6rem" role="progressbar" '
                       'aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100" title="{}">'
                       '<div class="progress-bar{}" style="width: {}%"></div></div>', percent, title, colour, percent)
