from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core import health, jobs
from core.filters import JobFilterSet
from core.models import Job

from .serializers import HealthSerializer, JobSerializer


def accepted(request, job):
    """The answer of every long write: 202, the job, and where to poll it."""
    data = JobSerializer(job, context={"request": request}).data
    location = request.build_absolute_uri(reverse("api-core:job-detail", args=[job.pk]))
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Job.objects.select_related("user")
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created", "status", "kind"]

    @extend_schema(request=None, responses={202: JobSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        if not jobs.request_cancel(job):
            return Response({"detail": f"Job {job.pk} has already finished ({job.status})."},
                            status=status.HTTP_409_CONFLICT)
        job.refresh_from_db()
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class HealthView(APIView):
    """Is the machinery running: Redis, a worker on each queue (jobs, inventory), Celery beat, the host watcher."""

    @extend_schema(responses=HealthSerializer)
    def get(self, request):
        return Response(HealthSerializer(health.status().as_dict()).data)


class TokenView(ObtainAuthToken):
    """POST username and password; get a token for `Authorization: Token <key>`.

    Throttled (scope "login", see REST_FRAMEWORK's DEFAULT_THROTTLE_RATES): 429 past the rate.
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
