from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    """No update or delete path in the app: the log only grows (retention is an operator's job in the DB)."""

    def update(self, **kwargs):
        raise AppendOnly("the audit log is append-only")

    def delete(self):
        raise AppendOnly("the audit log is append-only")


class AuditEntry(models.Model):
    class Source(models.TextChoices):
        PAGE = "page"
        API = "api"
        JOB = "job"

    class Result(models.TextChoices):
        OK = "ok", _("OK")
        REFUSED = "refused", _("Refused")  # 4xx: the request was not allowed or not valid; nothing changed
        FAILED = "failed", _("Failed")  # 5xx, or a job that failed

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", db_constraint=False)
    username = models.CharField(max_length=150, blank=True, db_index=True)  # kept when the user is deleted
    address = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    method = models.CharField(max_length=8, blank=True)
    action = models.CharField(max_length=120, db_index=True)  # the URL name ("api-networks:network-stop") or job kind
    path = models.CharField(max_length=500, blank=True)
    target = models.CharField(max_length=120, blank=True, db_index=True)  # "networks.network:12"
    params = models.JSONField(default=dict, blank=True)  # secrets redacted
    status = models.PositiveIntegerField(null=True, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, db_index=True)
    job_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    detail = models.TextField(blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("the audit log is append-only")

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"
