"""{% load instance_actions %}: the per-row lifecycle buttons of the instance list (state-based, no libvirt), and\nthe virsh lines behind a VM's buttons."""
from django import template
from django.urls import get_script_prefix, reverse

from core.generic import BoundAction, action_url_name

from virt import commands

from ..actions import ACTIONS, ROW_ACTIONS
from ..models import Instance

register = template.Library()
# reverse() once per action and script prefix, not once per row and action (a page has 100 rows): the
# URL of one VM is the pattern's with this placeholder id replaced.
_PLACEHOLDER = "987654321987"
_patterns = {}


def _url(action, pk):
    key = (get_script_prefix(), action.name)
    if key not in _patterns:
        _patterns[key] = reverse(action_url_name(Instance, action), args=[int(_PLACEHOLDER)])
    return _patterns[key].replace(_PLACEHOLDER, str(pk))


@register.filter
def row_actions(vm):
    """The row actions (start, shut down, force off) the VM's state allows, bound to its page routes."""
    return [BoundAction(action, _url(action, vm.pk), True) for action in ROW_ACTIONS if action.is_allowed(vm)]


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
