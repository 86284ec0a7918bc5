"""Roles and grants: who may see and do what on which host or VM.

A small grant model of our own rather than django-guardian or django-rules:
- guardian stores one row per (user, permission, object). A grant on a host would need a row for every VM on
  it, written again by each inventory sync that finds a new VM, and a migrated VM would carry the wrong rows.
  Here a host grant covers the host's VMs through the Instance.host foreign key, so nothing needs syncing.
- rules evaluates predicates in Python per object; lists and counts need a queryset. Here "what may this user
  see" is one SQL query with two subqueries over this table (see access/rules.py), for any list size.
"""
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# What an operator's grant may allow, beyond seeing: one boolean field each.
CAPABILITIES = ("lifecycle", "console", "snapshots", "edit", "migrate")


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin: everything, everywhere")
    OPERATOR = "operator", _("Operator: the granted actions on the granted host or VM")
    VIEWER = "viewer", _("Viewer: read-only on the granted host or VM")


class GrantQuerySet(models.QuerySet):
    def of(self, user):
        """The grants that apply to `user`: their own and their groups'."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(Q(user=user) | Q(group__in=Group.objects.filter(user=user).values("pk")))


class Grant(models.Model):
    """(a user or a group) x (everything, a host or a VM) x role, and for operators a set of actions.

    An admin grant covers everything and names no object; operator and viewer grants name one host (and then
    cover every VM on it, present and future) or one VM.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="grants")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.OPERATOR)
    host = models.ForeignKey("hosts.Host", null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    instance = models.ForeignKey("instances.Instance", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="grants")
    lifecycle = models.BooleanField(_("lifecycle"), default=False, help_text=_("Start, stop, reboot, pause, save."))
    console = models.BooleanField(_("console"), default=False, help_text=_("Open the VNC and serial console."))
    snapshots = models.BooleanField(_("snapshots"), default=False, help_text=_("Take, revert and delete snapshots."))
    edit = models.BooleanField(_("edit"), default=False,
                               help_text=_("Change hardware and XML, rename, clone, delete; "
                                           "create VMs on a granted host."))
    migrate = models.BooleanField(_("migrate"), default=False, help_text=_("Live-migrate to another visible host."))
    created = models.DateTimeField(auto_now_add=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=True) ^ Q(group__isnull=True), name="grant_user_xor_group"),
            models.CheckConstraint(
                condition=(Q(role="admin", host__isnull=True, instance__isnull=True)
                           | (~Q(role="admin") & (Q(host__isnull=True) ^ Q(instance__isnull=True)))),
                name="grant_object_matches_role"),
        ]

    def __str__(self):
        who = self.user or self.group
        what = self.instance or self.host or _("everything")
        return f"{who}: {self.get_role_display().split(':')[0]} on {what}"

    @property
    def allowed_actions(self):
        if self.role == Role.ADMIN:
            return list(CAPABILITIES)
        if self.role == Role.VIEWER:
            return []
        return [name for name in CAPABILITIES if getattr(self, name)]

    def clean(self):
        if (self.user_id is None) == (self.group_id is None):
            raise ValidationError({"user": _("Give a user or a group, not both or neither.")})
        has_object = self.host_id is not None or self.instance_id is not None
        if self.role == Role.ADMIN and has_object:
            raise ValidationError({"role": _("An admin grant covers everything: leave host and VM empty.")})
        if self.role != Role.ADMIN and (self.host_id is None) == (self.instance_id is None):
            raise ValidationError({"host": _("Give a host or a VM, not both or neither.")})
        if self.role != Role.OPERATOR:
            for name in CAPABILITIES:  # admins may do everything, viewers nothing: the flags say nothing more
                setattr(self, name, False)
