"""The command lines behind the network dialogs (virt/commands.py), from the values the action takes."""
from virt import commands

from . import services


def create(host, fields):
    """net-define of the XML the create would define (services.preview_network: the same builder), then
    net-start (a create starts the network) and net-autostart when asked. fields: NetworkForm.network_fields()."""
    name = fields["name"]
    return commands.network_define(host.uri, name, f"{name}.xml", start=True,
                                   autostart=fields.get("autostart", False), xml=services.preview_network(**fields))
