"""{% load instance_actions %}: the per-row lifecycle buttons of the instance list (state-based, no libvirt), and\nthe virsh lines behind a VM's buttons."""
from django import template
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy

from core.generic import action_url_name
from core.reverse import reverse_pk
from core.templatetags.virtdeck import translated_once
from virt import commands

from ..actions import ACTIONS, ROW_ACTIONS
from ..models import Instance

register = template.Library()


_ROW_LABELS = {**{action.name: action.label for action in ROW_ACTIONS}, "for_vm": gettext_lazy("%(action)s: %(name)s")}


@register.simple_tag(takes_context=True)
def row_action_buttons(context, vm):
    """The buttons of the row actions (start, shut down, force off) the VM's state allows, each submitting the
    page's #instance-row-action form to the action's route. A tag, its labels translated once per page: a
    template loop over them cost the 100-row list 7 ms."""
    labels = translated_once(context, _ROW_LABELS)
    return format_html_join("", '<button class="btn btn-sm btn-outline-secondary" type="submit" '
                            'form="instance-row-action" formaction="{}" data-action="{}" title="{}" aria-label="{}">'
                            '<i class="bi bi-{}" aria-hidden="true"></i></button>',
                            ((reverse_pk(action_url_name(Instance, action), vm.pk), action.name, labels[action.name],
                              labels["for_vm"] % {"action": labels[action.name], "name": vm.name}, action.icon)
                             for action in ROW_ACTIONS if action.is_allowed(vm)))


@register.filter
def lifecycle_commands(vm):
    """The virsh line behind each button the VM's state allows, each labelled with its button."""
    made = []
    for action in ACTIONS:
        if not action.is_allowed(vm):
            continue
        if action.name.startswith("autostart"):
            lines = commands.autostart(vm.host.uri, vm.name, action.name == "autostart_on")
        else:
            lines = commands.lifecycle(vm.host.uri, vm.name, action.name)
        made += [commands.Command(line.argv, note=str(action.label)) for line in lines]
    return made
