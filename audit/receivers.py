from django.dispatch import receiver

from core.jobs import job_finished

from .recorder import record_job


@receiver(job_finished)
def audit_finished_job(sender, job, **kwargs):
    record_job(job)
