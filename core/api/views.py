from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core import health
from core.actions import JOB_ACTIONS
from core.filters import JobFilterSet
from core.models import Job
from core.permissions import RestrictedQuerysetMixin

from .serializers import HealthSerializer, JobSerializer


def accepted(request, job):
    """The answer of every long write: 202, the job, and where to poll it."""
    data = JobSerializer(job, context={"request": request}).data
    location = request.build_absolute_uri(reverse("api-core:job-detail", args=[job.pk]))
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


# A viewset's own method names: an action called so (instances' "destroy", force off) gets another attribute.
VIEWSET_METHODS = frozenset({"list", "retrieve", "create", "update", "partial_update", "destroy"})


def action_route(object_action, attribute=None):
    """The API route of an Action (core/actions.py): POST /api/<app>/<pk>/<name>/, as its page's button does.

    202 with the job when it started one, else 200 with the object as it is now. Errors go through
    core/api/exceptions.py (409 when the object's state does not allow the action).
    """

    def route(self, request, pk=None):
        obj = self.get_object()
        result = object_action.perform(obj, request.user)
        if isinstance(result, Job):
            return accepted(request, result)
        return Response(self.get_serializer(self.get_object()).data)

    route.__name__ = attribute or object_action.name
    route.__doc__ = str(object_action.label)
    route = action(detail=True, methods=["post"], url_path=object_action.name,
                   url_name=object_action.name.replace("_", "-"))(route)
    if object_action.answers_job:
        return extend_schema(request=None, responses={202: JobSerializer, 409: None})(route)
    return extend_schema(request=None)(route)


# What every virtdeck viewset shares (a comment, not a docstring: the API schema would show it on every route):
# - the queryset goes through core.permissions (`restrict_queryset`);
# - filters and ordering come from `filterset_class` only, the one filter set its list page uses, so `?ordering=`
#   offers the same columns in both and refuses (400) any other;
# - `object_actions` (core.actions.Action) become POST routes; `delete_action` is what DELETE runs.
# List it first among the bases (`class HostViewSet(BaseViewSet, viewsets.ModelViewSet)`), so that its
# perform_destroy comes before the mixins'.
class BaseViewSet(RestrictedQuerysetMixin, viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]
    object_actions = ()
    delete_action = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for object_action in cls.object_actions:
            attribute = object_action.name + ("_action" if object_action.name in VIEWSET_METHODS else "")
            if attribute not in cls.__dict__:
                setattr(cls, attribute, action_route(object_action, attribute))

    def perform_destroy(self, instance):
        if self.delete_action is None:
            return super().perform_destroy(instance)
        return self.delete_action.perform(instance, self.request.user)


class ObjectAPIView(RestrictedQuerysetMixin, generics.GenericAPIView):
    """A route about one object (`<pk>` in its URL) that is not a list: no filters, ordering or pages apply."""

    filter_backends = ()
    pagination_class = None


class JobViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Job.objects.select_related("user")
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    object_actions = JOB_ACTIONS


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
