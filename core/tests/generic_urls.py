"""URLs for core/tests/test_generic.py: generic views and a viewset over Job with actions that fail on purpose,
mounted beside the project's own URLs (the pages' base template needs them)."""
from django.urls import include, path
from rest_framework import mixins
from rest_framework.routers import SimpleRouter

from core.actions import Action
from core.api.serializers import JobSerializer
from core.api.views import BaseViewSet
from core.generic import ObjectDeleteView, action_urls
from core.models import Job
from core.tasks import wait_job
from virt.errors import HostUnreachable
from virtdeck.urls import urlpatterns as project_urlpatterns


def unreachable(job):
    raise HostUnreachable("unable to connect to server at '127.0.0.1:1': Connection refused")


def touch(job):
    Job.objects.filter(pk=job.pk).update(progress=55)


UNREACHABLE = Action("unreachable", "Poke", service=unreachable)
NOT_NOW = Action("not_now", "Wait", service=touch, allowed=lambda job: job.status != Job.Status.QUEUED)
TOUCH = Action("touch", "Touch", service=touch, message="Touched %(object)s.")
WAIT = Action("wait", "Wait a second", task=wait_job, enqueue_kwargs=lambda job: {"seconds": 1}, show_job=True)
ACTIONS = (UNREACHABLE, NOT_NOW, TOUCH, WAIT)


class FailingJobViewSet(BaseViewSet, mixins.RetrieveModelMixin):
    queryset = Job.objects.all()
    serializer_class = JobSerializer
    object_actions = ACTIONS


router = SimpleRouter()
router.register("jobs", FailingJobViewSet, basename="job")
patterns = [
    path("jobs/<int:pk>/delete/", ObjectDeleteView.as_view(model=Job, confirm_name=True, confirm_field="kind",
                                                           success_url="/jobs/"), name="job_delete"),
    path("jobs/<int:pk>/refused-delete/", ObjectDeleteView.as_view(model=Job, action=UNREACHABLE),
         name="job_refused_delete"),
    path("jobs/", include(action_urls(Job, ACTIONS))),
]
urlpatterns = [path("generic-test/", include((patterns, "generic-test"))),
               path("api/generic-test/", include((router.urls, "api-generic-test"))), *project_urlpatterns]
