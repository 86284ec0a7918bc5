"""A VM's snapshots, shared by its page and /api/instances/<id>/snapshots/ (the work: virt/snapshots.py).

Input is checked here, once, for both: a problem raises django's ValidationError keyed by the field
(`name`, `kind`, `description`), which the API answers as 400 and the form shows beside the field.
Create, revert and delete run as jobs (instances/lifecycle_jobs.py queues them after check_create,
check_revert, get_snapshot; run_create, run_revert, run_delete are the jobs' work): a memory snapshot writes
the VM's whole RAM, a delete may merge images. After every change the VM's row is re-read from its host
(`refreshed`): a revert changes its state.
"""
import unicodedata
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import BIDI_CONTROLS, libvirt_name_problem
from virt.errors import InvalidConfig, NotFound, OperationInvalid
from virt.snapshots import NATIVE_EXTERNAL_REVERT
from virt.xml.domain import DomainXML

from .lifecycle_long import long_call
from .services import on_domain, refreshed

DESCRIPTION_MAX = 1000


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


def _internal_problem(domain_xml):
    """Why libvirt would refuse an internal snapshot of this VM (a writable disk that is not qcow2), or None."""
    for disk in DomainXML.from_xml(domain_xml, trusted=True).disks:
        if disk.device in ("disk", "lun") and not disk.readonly and disk.source and disk.format != "qcow2":
            return gettext("Internal snapshots live in qcow2 images, and disk %(disk)s is %(format)s: take an "
                           "external snapshot instead.") % {"disk": disk.target_dev, "format": disk.format or "?"}
    return None


def check_create(instance, name, kind, description=""):
    """Everything a snapshot's creation can be refused for before it is queued: ValidationError by field (the
    input, a name the VM has already, an internal snapshot of a disk that is not qcow2)."""
    check_new_snapshot(name, kind, description)
    taken, domain_xml = on_domain(instance, lambda dom: (dom.snapshots.exists(name), dom.xml_desc()))
    if taken:
        raise ValidationError({"name": gettext("%(vm)s already has a snapshot named %(name)s.")
                               % {"vm": instance.name, "name": name}})
    if kind == SnapshotKind.INTERNAL and (problem := _internal_problem(domain_xml)):
        raise ValidationError({"kind": problem})


def check_revert(instance, name):
    """NotFound for a snapshot the VM lacks; OperationInvalid when virtdeck's own revert (external snapshot,
    libvirt before 9.9) would meet a running VM."""
    snapshot = get_snapshot(instance, name)
    if snapshot["kind"] == SnapshotKind.EXTERNAL and not native_external_revert(instance.host):
        if on_domain(instance, lambda dom: dom.is_active()):
            raise OperationInvalid(gettext("This libvirt cannot revert a running VM to an external snapshot: "
                                           "shut the VM down first."))


def _as_job_error(exc):
    """A refusal met by the job (libvirt's own, after the checks passed) as the job's error message."""
    return InvalidConfig("; ".join(f"{field}: {message}" for field, messages in exc.message_dict.items()
                                   for message in messages))


def run_create(instance, job, name, kind, description=""):
    """The snapshot job: take it (internal: in the qcow2 images, with the memory of a running VM; external:
    disk-only, atomic). Nothing is made when it fails. Returns {"instance", "state", "snapshot"}."""
    try:
        check_create(instance, name, kind, description)  # again: the VM may have changed since the request
    except ValidationError as exc:
        raise _as_job_error(exc) from None
    make = "create_internal" if kind == SnapshotKind.INTERNAL else "create_external"
    long_call(instance.host, job, str(instance.uuid),
              lambda dom: getattr(dom.snapshots, make)(name, description or None))
    job.log(gettext("Snapshot %(name)s of %(vm)s taken.") % {"name": name, "vm": instance.name})
    return {**_state(instance), "snapshot": name}


def run_revert(instance, job, name, discard_current=False):
    """The revert job. Its result is virt's answer plus `label`, which says who reverted and how: libvirt
    ("native"), or virtdeck itself for an external snapshot on libvirt before 9.9 ("manual": the disks point
    at the snapshot's images again, each under a fresh overlay). The latter needs a shut-off VM
    (OperationInvalid otherwise); with discard_current it also deletes the files that held the state left
    behind, where no snapshot needs them and a storage pool covers them (`removed`; the rest stay: `left`)."""
    result = long_call(instance.host, job, str(instance.uuid),
                       lambda dom: dom.snapshots.revert(name, discard_current=discard_current))
    if result["method"] == "manual":
        result["label"] = gettext(
            "Reverted by virtdeck, not libvirt (this host's libvirt cannot revert to external snapshots): "
            "the disks point at the snapshot's images again, each under a fresh overlay.")
    else:
        result["label"] = gettext("Reverted by libvirt.")
    job.log(gettext("%(vm)s reverted to %(name)s. %(how)s") % {"vm": instance.name, "name": name,
                                                                 "how": result["label"]})
    if result.get("removed"):
        job.log(gettext("Deleted the files that held the state left behind: %(files)s")
                % {"files": ", ".join(result["removed"])})
    if result.get("left"):
        job.log(gettext("The files that held the state left behind stay on the host: %(files)s")
                % {"files": ", ".join(result["left"])})
    return {**result, **_state(instance)}


def run_delete(instance, job, name):
    """The deletion job: libvirt drops an internal snapshot from the images and merges an external one's
    overlay back into the image below it. Returns {"name", "metadata_only", "files_left", "instance",
    "state"} (see virt.snapshots.Snapshots.delete for when only the metadata can go)."""
    result = long_call(instance.host, job, str(instance.uuid), lambda dom: dom.snapshots.delete(name))
    if result["metadata_only"]:
        job.log(gettext(
            "Snapshot %(name)s of %(vm)s deleted; libvirt could not merge its overlays (they are no longer "
            "under the VM's disks), so these files stay on the host, unless a revert discarded them: %(files)s")
            % {"vm": instance.name, "name": name, "files": ", ".join(result["files_left"])}, level="warning")
    else:
        job.log(gettext("Snapshot %(name)s of %(vm)s deleted.") % {"vm": instance.name, "name": name})
    return {**result, **_state(instance)}


def _state(instance):
    row = refreshed(instance)
    return {"instance": instance.pk, "state": row.state if row else None}
