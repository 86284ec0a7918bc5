"""A VM's snapshots, shared by its page and /api/instances/<id>/snapshots/ (the work: virt/snapshots.py).

Input is checked here, once, for both: a problem raises django's ValidationError keyed by the field
(`name`, `kind`, `description`), which the API answers as 400 and the form shows beside the field.
After every change the VM's row is re-read from its host (`refreshed`): a revert changes its state.
"""
import unicodedata
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import BIDI_CONTROLS, libvirt_name_problem
from virt.errors import InvalidConfig, NotFound, Unsupported
from virt.snapshots import NATIVE_EXTERNAL_REVERT

from .services import on_domain, refreshed

DESCRIPTION_MAX = 1000
# A memory snapshot of a running VM writes its whole RAM into the image: seconds for the lab's 256 MiB
# guests, longer for big VMs. Beyond the usual call timeout, so a slow save does not count as a dead host.
SNAPSHOT_TIMEOUT = 120


class SnapshotKind(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    EXTERNAL = "external", _("External (disk only)")


def _description_problem(description):
    # Line breaks and tabs are fine in a description; other control characters cannot even go into XML.
    if len(description) > DESCRIPTION_MAX:
        return gettext("A description can be at most %(max)d characters long.") % {"max": DESCRIPTION_MAX}
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in description):
        return gettext("Control characters are not allowed.")
    if any(ch in BIDI_CONTROLS for ch in description):
        return gettext("Bidirectional control characters are not allowed.")
    try:
        description.encode()
    except UnicodeEncodeError:
        return gettext("A description must be valid Unicode text.")
    return None


def check_new_snapshot(name, kind, description):
    """What can be said without asking the host. Raises ValidationError({field: message})."""
    errors = {}
    problem = libvirt_name_problem(name)
    if problem:
        errors["name"] = problem
    if kind not in SnapshotKind.values:
        errors["kind"] = gettext("Choose internal or external.")
    if not isinstance(description, str):
        errors["description"] = gettext("A description must be text.")
    elif described := _description_problem(description):
        errors["description"] = described
    if errors:
        raise ValidationError(errors)


def native_external_revert(host):
    """Whether the host's libvirt reverts to external snapshots itself (9.9 and later), from its facts."""
    try:
        major, minor, micro = (int(part) for part in host.facts.get("libvirt_version", "").split("."))
    except ValueError:
        return False
    return major * 1_000_000 + minor * 1_000 + micro >= NATIVE_EXTERNAL_REVERT


def with_children(snapshots):
    """virt's tree-ordered list, each entry also given the names of its `children` and `created_at`."""
    children = {entry["name"]: [] for entry in snapshots}
    for entry in snapshots:
        if entry["parent"] in children:
            children[entry["parent"]].append(entry["name"])
    return [{**entry, "children": children[entry["name"]],
             "created_at": datetime.fromtimestamp(entry["created"], UTC) if entry["created"] else None}
            for entry in snapshots]


def list_snapshots(instance):
    """Every snapshot of the VM, depth-first (parents before children), read from its host."""
    return with_children(on_domain(instance, lambda dom: dom.snapshots.list()))


def _entry(tree, name):
    found = [entry for entry in tree if entry["name"] == name]
    if not found:
        raise NotFound(gettext("No snapshot named %(name)s.") % {"name": name})
    return found[0]


def get_snapshot(instance, name):
    """One snapshot as list_snapshots shows it (NotFound if the VM has none of that name)."""
    return _entry(list_snapshots(instance), name)


def create_snapshot(instance, name, kind, description=""):
    """Take a snapshot: internal (in the qcow2 images, with the memory of a running VM) or external
    (disk-only, atomic). Returns it as list_snapshots shows it. Nothing is made when it fails."""
    check_new_snapshot(name, kind, description)

    def create(dom):
        if dom.snapshots.exists(name):
            return None
        make = dom.snapshots.create_internal if kind == SnapshotKind.INTERNAL else dom.snapshots.create_external
        make(name, description or None)
        return dom.snapshots.list()  # where it went in the tree

    try:
        tree = on_domain(instance, create, timeout=SNAPSHOT_TIMEOUT)
    except (InvalidConfig, Unsupported) as exc:  # libvirt refuses this kind here, e.g. internal on a raw disk
        raise ValidationError({"kind": exc.message}) from None
    if tree is None:
        raise ValidationError({"name": gettext("%(vm)s already has a snapshot named %(name)s.")
                               % {"vm": instance.name, "name": name}})
    refreshed(instance)
    return _entry(with_children(tree), name)


def revert_snapshot(instance, name, discard_current=False):
    """Go back to the snapshot. Returns virt's answer plus `label`, which says who reverted and how:
    libvirt ("native"), or virtdeck itself for an external snapshot on libvirt before 9.9 ("manual": the
    disks point at the snapshot's images again, each under a fresh overlay). The latter needs a shut-off VM
    (OperationInvalid otherwise); with discard_current it also deletes the files that held the state left
    behind, where no snapshot needs them and a storage pool covers them (`removed`; the rest stay: `left`)."""
    result = on_domain(instance, lambda dom: dom.snapshots.revert(name, discard_current=discard_current),
                       timeout=SNAPSHOT_TIMEOUT)
    if result["method"] == "manual":
        result["label"] = gettext(
            "Reverted by virtdeck, not libvirt (this host's libvirt cannot revert to external snapshots): "
            "the disks point at the snapshot's images again, each under a fresh overlay.")
    else:
        result["label"] = gettext("Reverted by libvirt.")
    refreshed(instance)
    return result


def delete_snapshot(instance, name):
    """Delete the snapshot: libvirt drops an internal one from the images and merges an external one's
    overlay back into the image below it. Returns {"name", "metadata_only", "files_left"} (see
    virt.snapshots.Snapshots.delete for when only the metadata can go)."""
    result = on_domain(instance, lambda dom: dom.snapshots.delete(name), timeout=SNAPSHOT_TIMEOUT)
    refreshed(instance)
    return result
