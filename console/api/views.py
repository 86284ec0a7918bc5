from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import get_permitted_object
from instances.models import Instance

from .. import services, tickets
from .serializers import TicketRequestSerializer, TicketSerializer


class ConsoleTicketView(APIView):
    """A single-use ticket to open the VM's console (vnc or serial) within a few seconds."""

    @extend_schema(request=TicketRequestSerializer, responses={200: TicketSerializer, 503: None})
    def post(self, request, pk):
        instance = get_permitted_object(Instance.objects.all(), request.user, "console", pk=pk)
        body = TicketRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            ticket = services.issue_ticket(request.user, instance, body.validated_data["kind"])
        except tickets.StoreUnavailable:
            return Response({"detail": _("Console tickets live in Redis, which does not answer; try again.")},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(TicketSerializer(ticket).data)
