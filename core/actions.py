"""Actions: something a user does to one object, declared once for its page and its API route.

An app lists its actions in `<app>/actions.py`:

    REFRESH = Action("refresh", _("Refresh"), task=tasks.refresh_host,
                     enqueue_kwargs=lambda host: {"host": host, "host_id": host.pk},
                     message=_("Refreshing %(object)s: job #%(job)s."))
    START = Action("start", _("Start"), service=services.start, allowed=lambda vm: vm.state == "shut off")
    ACTIONS = (REFRESH, START)

`core.generic.action_urls(Model, ACTIONS)` makes the page routes (POST <pk>/<name>/, named
<model>_<name>, served by ObjectActionView) and `BaseViewSet.object_actions = ACTIONS` the API routes
(POST /api/<app>/<pk>/<name>/): both run `Action.perform`, so page and API cannot drift.
A `service` runs in the request and may return a Job; a `task` is long work, enqueued as a Job.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from virt.errors import OperationInvalid

from . import jobs


def _nothing(obj):
    return {}


@dataclass(frozen=True)
class Action:
    name: str  # URL segment, API route and URL name suffix: "refresh" -> hosts:host_refresh, api-hosts:host-refresh
    label: str  # the button, and the start of messages ("Refresh")
    service: Callable[[Any], Any] | None = None  # service(obj), in the request; may return a Job to follow
    task: Any = None  # a core.jobs.JobTask: the action becomes a Job (202 in the API)
    enqueue_kwargs: Callable[[Any], dict] = _nothing  # task(obj) kwargs, plus enqueue's own `host`
    message: str = ""  # success message, with %(object)s and %(job)s
    icon: str = ""  # Bootstrap icon name, without "bi-"
    allowed: Callable[[Any], bool] | None = None  # whether the object's state allows it (buttons hide otherwise)
    show_job: bool = False  # the page goes on to the job (progress bar) instead of back
    returns_job: bool = False  # the service returns a Job (for the API schema: 202)

    def __post_init__(self):
        if (self.service is None) == (self.task is None):
            raise ValueError(f"action {self.name!r}: give a service or a task, not both or neither")

    @property
    def answers_job(self):
        return self.task is not None or self.returns_job

    def is_allowed(self, obj):
        return self.allowed is None or bool(self.allowed(obj))

    def perform(self, obj, user):
        """Run the action on `obj` for `user`: the Job it started (long work), or what the service returned.

        Raises VirtError (OperationInvalid when the object's state does not allow it).
        """
        if not self.is_allowed(obj):
            raise OperationInvalid(self.refusal(obj))
        if self.task is not None:
            return jobs.enqueue(self.task, user=user, target=obj, **self.enqueue_kwargs(obj))
        return self.service(obj)

    def refusal(self, obj):
        """Why `obj`'s state does not allow the action (naming the state where the object has one)."""
        state = getattr(obj, "get_state_display", None)
        if callable(state):
            return gettext("%(action)s is not possible for %(object)s while it is %(state)s.") % {
                "action": self.label, "object": obj, "state": state()}
        return gettext("%(action)s is not possible for %(object)s in its current state.") % {
            "action": self.label, "object": obj}

    def success_message(self, obj, job=None):
        if self.message:
            template = str(self.message)
        elif job is not None:
            template = gettext("%(action)s of %(object)s started: job #%(job)s.")
        else:
            template = gettext("%(action)s of %(object)s: done.")
        return template % {"action": self.label, "object": obj, "job": job.pk if job is not None else ""}

    def error_message(self, obj, error):
        return gettext("%(action)s of %(object)s failed: %(error)s") % {
            "action": self.label, "object": obj, "error": error.message}


# --- core's own object: jobs ----------------------------------------------------------------------------------


def cancel_job(job):
    """Ask `job` to stop (see jobs.request_cancel); OperationInvalid if it has finished already."""
    if not jobs.request_cancel(job):
        job.refresh_from_db(fields=["status"])
        raise OperationInvalid(gettext("Job %(id)s has already finished (%(status)s).")
                               % {"id": job.pk, "status": job.status})
    job.refresh_from_db()
    return job


CANCEL_JOB = Action("cancel", _("Cancel"), service=cancel_job, returns_job=True, icon="x-circle",
                    message=_("Cancel requested for %(object)s."))
JOB_ACTIONS = (CANCEL_JOB,)
