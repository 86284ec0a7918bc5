"""Running a job an answer queued, here in the test's process, as the worker would (JobTask.run: status, error,
result, log): the tests have no worker, and a test-driver host's VMs live in the test's own connection."""
from core.models import Job
from virtdeck.celery import app


def run_queued(job_or_id):
    """Run the queued job (a Job, its id, or a 202 answer) to its end; return the Job as it ended."""
    if hasattr(job_or_id, "status_code"):
        assert job_or_id.status_code == 202, job_or_id.content
        job_or_id = job_or_id.json()["id"]
    job = Job.objects.get(pk=getattr(job_or_id, "pk", job_or_id))
    task = next(task for task in app.tasks.values() if getattr(task, "kind", None) == job.kind
                and task.name.startswith("instances."))
    task.run(job.pk, **job.params)
    job.refresh_from_db()
    return job


def last_job():
    """The job queued last, run to its end."""
    return run_queued(Job.objects.latest("pk"))
