"""{% load instance_actions %}: the per-row lifecycle buttons of the instance list (state-based, no libvirt), and\nthe virsh lines behind a VM's buttons."""
from django import template

from core.generic import BoundAction, action_url_name
from core.reverse import reverse_pk
from virt import commands

from ..actions import ACTIONS, ROW_ACTIONS
from ..models import Instance

register = template.Library()


@register.filter
def row_actions(vm):
    """The row actions (start, shut down, force off) the VM's state allows, bound to its page routes."""
    return [BoundAction(action, reverse_pk(action_url_name(Instance, action), vm.pk), True) for action in ROW_ACTIONS if action.is_allowed(vm)]


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
