"""Which rows of each model a user may see, and act on: every list, page, API route, push and ticket asks here.

`restrict(queryset, user, action)` narrows any queryset; each rule is one SQL query (subqueries over Grant),
never a loop over objects. The vocabulary of `action`:
- "view": read it (lists, counts, filter choices, detail pages, GET routes);
- an Action's name (core/actions.py: "start", "cancel", ...) or a page's `permission_action`;
- "create", "change", "delete": the plain writes of a form or viewset.

Roles: an admin (superuser, or an admin grant to the user or one of their groups) may do everything. Anyone
else sees what their operator and viewer grants name and may do, on VMs only, the actions of an operator grant
(see ACTION_CAPABILITY). Hosts, networks, pools, volumes and bridges are changed by admins only: a host grant
lets its holders see the host and its networks and storage, read-only. A VM grant shows the VM and its jobs, not
its host (which would show the other VMs' numbers) nor the pools its disks live on.
Unknown models and unknown actions are for admins only: a new route fails closed.
"""
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from audit.models import AuditEntry
from core.models import Job
from hosts.models import Host
from instances.models import Instance, InstanceTemplate
from networks.models import Network
from storage.models import StoragePool, Volume

from .models import CAPABILITIES, Grant, Role

VIEW = "view"

# The VM actions an operator grant may allow, by the capability that allows them.
INSTANCE_ACTIONS = {
    "lifecycle": {"start", "restore", "shutdown", "reboot", "reset", "suspend", "resume", "save", "destroy",
                  "discard_save", "autostart_on", "autostart_off"},
    "console": {"console", "screenshot"},
    "snapshots": {"snapshots"},
    "edit": {"change", "rename", "xml", "hardware", "clone", "delete"},
    "migrate": {"migrate", "post_copy"},
}
ACTION_CAPABILITY = {action: capability for capability, actions in INSTANCE_ACTIONS.items() for action in actions}
# The one host action an operator may hold: creating a VM there (its `edit` capability on a host grant).
# Every other, "host_shell" included (pages that run commands on the host, even read-only), is for admins.
CREATE_INSTANCE = "create_instance"


def is_admin(user):
    """Superuser, or an admin grant to the user or a group of theirs. Remembered on the user object, which
    lives for one request (a websocket asks again with a fresh one: see core/consumers.py)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_virtdeck_is_admin"):
        user._virtdeck_is_admin = Grant.objects.of(user).filter(role=Role.ADMIN).exists()
    return user._virtdeck_is_admin


def grants(user, capability=VIEW):
    """The grants of `user` that allow `capability` ("view" or one of CAPABILITIES) on their object."""
    applicable = Grant.objects.of(user).exclude(role=Role.ADMIN)
    if capability == VIEW:
        return applicable
    if capability not in CAPABILITIES:
        return applicable.none()
    return applicable.filter(role=Role.OPERATOR, **{capability: True})


def instances_q(user, capability=VIEW, prefix=""):
    """Q over Instance (or a relation to it, through `prefix`) for the VMs `user` holds `capability` on."""
    held = grants(user, capability)
    return (Q(**{f"{prefix}pk__in": held.filter(instance__isnull=False).values("instance")})
            | Q(**{f"{prefix}host__in": held.filter(host__isnull=False).values("host")}))


def granted_hosts(user, capability=VIEW):
    return grants(user, capability).filter(host__isnull=False).values("host")


def _instance(queryset, user, action):
    if action == VIEW:
        return queryset.filter(instances_q(user))
    capability = ACTION_CAPABILITY.get(action)
    return queryset.filter(instances_q(user, capability)) if capability else queryset.none()


def _host(queryset, user, action):
    if action == VIEW:
        return queryset.filter(pk__in=granted_hosts(user))
    if action == CREATE_INSTANCE:
        return queryset.filter(pk__in=granted_hosts(user, "edit"))
    return queryset.none()


def _on_granted_host(path):
    def rule(queryset, user, action):
        return queryset.filter(**{f"{path}__in": granted_hosts(user)}) if action == VIEW else queryset.none()
    return rule


def _job(queryset, user, action):
    """Jobs: one's own (and may cancel them), and, to read, the jobs on the VMs and hosts one may see."""
    own = Q(user=user)
    if action != VIEW:
        return queryset.filter(own) if action == "cancel" else queryset.none()
    visible_vms = Instance.objects.filter(instances_q(user)).annotate(key=Cast("pk", CharField())).values("key")
    visible_hosts = Host.objects.filter(pk__in=granted_hosts(user)).annotate(
        key=Cast("pk", CharField())).values("key")
    return queryset.filter(own | Q(target_kind=Job.TargetKind.INSTANCE, target_id__in=visible_vms)
                           | Q(target_kind=Job.TargetKind.HOST, target_id__in=visible_hosts))


def _template(queryset, user, action):
    """Creation templates are answers to the wizard, not objects on a host: all may read, admins write."""
    return queryset if action == VIEW else queryset.none()


def _audit(queryset, user, action):
    """Everyone reads their own entries (what they did); admins read all. Nobody writes (append-only)."""
    return queryset.filter(user=user) if action == VIEW else queryset.none()


RULES = {
    Instance: _instance,
    Host: _host,
    Network: _on_granted_host("host"),
    StoragePool: _on_granted_host("host"),
    Volume: _on_granted_host("pool__host"),
    Job: _job,
    InstanceTemplate: _template,
    AuditEntry: _audit,
}


def restrict(queryset, user, action=VIEW):
    """The part of `queryset` that `user` may `action` (see the module's docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if is_admin(user):
        return queryset
    rule = RULES.get(queryset.model)
    return rule(queryset, user, action) if rule else queryset.none()


def may_create(user, model):
    """Whether `user` may create objects of `model` at all (which host then is `restrict(..., "create_instance")`)."""
    if is_admin(user):
        return True
    return model is Instance and grants(user, "edit").filter(host__isnull=False).exists()


def share_clone(user, source, clone):
    """Give `user` the VM they just cloned when they see the source only through VM grants: else the clone would
    vanish from their lists the moment it exists. The new grant is theirs, with the capabilities their grants give
    on the source (cloning needed `edit` there). Returns the Grant, or None when none was needed."""
    if user is None or source is None or clone is None or is_admin(user):
        return None
    if restrict(Instance.objects.filter(pk=clone.pk), user).exists():
        return None  # a host grant shows it already
    held = list(grants(user).filter(instance=source))
    if not held:
        return None
    operator = [grant for grant in held if grant.role == Role.OPERATOR]
    capabilities = {name: any(getattr(grant, name) for grant in operator) for name in CAPABILITIES}
    return Grant.objects.create(user=user, instance=clone, role=Role.OPERATOR if operator else Role.VIEWER,
                                **capabilities)


# The live push (core/events.py): which object each kind of event is about. An event without its object's id
# (a deletion) is shown to those who may see the host it names.
EVENT_MODELS = {"host": Host, "instance": Instance, "network": Network, "job": Job}


def may_see_event(user_id, kind, data):
    """Whether the user `user_id` may receive the inventory event (kind, data), as of now (grants may have
    changed since their websocket opened: asked afresh for each event)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    if is_admin(user):
        return True
    model = EVENT_MODELS.get(kind)
    if model is not None and data.get("id") is not None:
        return restrict(model.objects.filter(pk=data["id"]), user).exists()
    if kind in ("instance", "network", "storage") and data.get("host") is not None:
        return restrict(Host.objects.filter(pk=data["host"]), user).exists()
    return False
