from django.http import HttpResponse
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication

from .prometheus import exposition


class AnyAccept(BaseContentNegotiation):
    """Scrapers ask for text/plain or OpenMetrics; refusals are JSON whatever they accept."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PrometheusView(APIView):
    """GET /metrics with `Authorization: Token vd_...` (a read-only API token is enough). No session:
    a scraper has none, and a token cannot be forged across sites."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]
    content_negotiation_class = AnyAccept
    schema = None

    def get(self, request):
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
