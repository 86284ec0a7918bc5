from django import template

from ..views import KEY_COMBOS, console_config

register = template.Library()


@register.simple_tag(takes_context=True)
def console_context(context, instance, kind="vnc"):
    """What console/_toolbar.html and the console scripts need, for a page other than the console's own."""
    context["kind"] = kind
    context["console_config"] = console_config(instance, kind)
    context["key_combos"] = KEY_COMBOS
    return ""
