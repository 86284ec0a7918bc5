from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """Long work, tracked: the one truth the UI, API and websocket show."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class TargetKind(models.TextChoices):
        HOST = "host"
        INSTANCE = "instance"
        VOLUME = "volume"
        NETWORK = "network"
        NONE = "none"

    kind = models.CharField(max_length=50, db_index=True)
    target_kind = models.CharField(max_length=20, choices=TargetKind.choices, default=TargetKind.NONE)
    target_id = models.CharField(max_length=100, blank=True)
    target_name = models.CharField(max_length=200, blank=True)
    host = models.ForeignKey("hosts.Host", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    log = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("core:job_detail", args=[self.pk])

    def get_kind_display(self):
        return self.kind.replace("_", " ").capitalize()

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def duration(self):
        if not self.started:
            return None
        return (self.finished or timezone.now()) - self.started

    @property
    def target_url(self):
        if self.target_kind == self.TargetKind.HOST and self.target_id:
            return reverse("hosts:host_detail", args=[self.target_id])
        if self.target_kind == self.TargetKind.INSTANCE and self.target_id:
            return reverse("instances:instance_detail", args=[self.target_id])
        if self.target_kind == self.TargetKind.VOLUME and self.target_id:
            return reverse("storage:volume_detail", args=[self.target_id])
        return ""


class UserPreference(models.Model):
    """What a user chose once and expects everywhere: today the rows per list page."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    page_size = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return f"preferences of {self.user}"
