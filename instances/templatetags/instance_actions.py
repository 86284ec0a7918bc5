"""{% load instance_actions %}: the per-row lifecycle buttons of the instance list (state-based, no libvirt)."""
from django import template

from core.generic import bound_actions

from ..actions import ROW_ACTIONS

register = template.Library()


@register.filter
def row_actions(vm):
    """The row actions (start, shut down, force off) the VM's state allows, bound to its page routes."""
    return [bound for bound in bound_actions(vm, ROW_ACTIONS) if bound.allowed]
