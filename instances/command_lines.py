"""The command lines behind a VM's dialogs (virt/commands.py), built from the parameters the action takes:
the same function feeds the dialog, while the form changes, and the job's page, once it runs."""
from virt import commands

from .migration import destination_uri


def migrate(source, vm_name, target, options):
    """`virsh migrate` from `source` to `target` (hosts) with the job's options (virt.migration.Options as a dict)."""
    destination = destination_uri(target) if options.get("peer2peer", True) else target.uri
    return commands.migrate(source.uri, vm_name, destination, migration_address=target.migration_address,
                            **options)
