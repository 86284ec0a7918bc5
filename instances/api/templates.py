"""/api/templates/: the wizard's saved answers (CRUD). `answers` holds the same fields as POST /api/instances/
but the VM's name; they are checked by instances.builder when saved and again against the host when used."""
from django.utils.translation import gettext as _
from rest_framework import serializers, viewsets

from core.api.views import BaseViewSet

from ..builder import AnswerErrors
from ..creation import template_data
from ..filters import InstanceTemplateFilterSet
from ..models import InstanceTemplate


class InstanceTemplateSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-templates:instancetemplate-detail")

    class Meta:
        model = InstanceTemplate
        fields = ["id", "url", "name", "description", "answers", "created", "updated"]
        read_only_fields = ["id", "url", "created", "updated"]

    def validate_answers(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected an object of wizard answers."))
        try:
            return template_data(value)
        except AnswerErrors as exc:
            raise serializers.ValidationError(exc.errors) from None


class InstanceTemplateViewSet(BaseViewSet, viewsets.ModelViewSet):
    queryset = InstanceTemplate.objects.all()
    serializer_class = InstanceTemplateSerializer
    filterset_class = InstanceTemplateFilterSet
