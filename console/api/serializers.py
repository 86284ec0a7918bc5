from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..tickets import KINDS


class TicketRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, help_text=_("vnc: the graphical console; serial: the serial console"))


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text=_("Single use; send it as ?ticket= on ws_path"))
    ws_path = serializers.CharField(help_text=_("The websocket path on this site"))
    expires_in = serializers.IntegerField(help_text=_("Seconds the ticket stays valid"))
