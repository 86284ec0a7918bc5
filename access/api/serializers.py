from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from rest_framework import serializers

from hosts.models import Host
from instances.models import Instance

from .. import services
from ..models import Grant


def as_drf_error(exc):
    """A model ValidationError as DRF's (400 naming the field)."""
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128,
                                     style={"input_type": "password"}, help_text="Sets a new password; never returned.")
    groups = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all(), many=True, required=False)
    # Optional and often empty: a plain string checked as an address in validate_email (a validator on the field
    # would give the schema an "email" format, which refuses the empty string users often have).
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "first_name", "last_name", "is_active", "is_superuser", "groups",
                  "password", "last_login", "date_joined"]
        read_only_fields = ["last_login", "date_joined"]

    def validate_email(self, value):
        if value:
            try:
                EmailValidator()(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
        return value

    def save_user(self, user):
        data = dict(self.validated_data)
        password, groups = data.pop("password", None), data.pop("groups", None)
        for name, value in data.items():
            setattr(user, name, value)
        try:
            return services.save_user(user, password=password, groups=groups)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None

    def create(self, validated_data):
        return self.save_user(get_user_model()())

    def update(self, instance, validated_data):
        return self.save_user(instance)


class GroupSerializer(serializers.ModelSerializer):
    members = serializers.PrimaryKeyRelatedField(source="user_set", queryset=get_user_model().objects.all(),
                                                 many=True, required=False)

    class Meta:
        model = Group
        fields = ["id", "name", "members"]

    def save_group(self, group):
        data = dict(self.validated_data)
        members = data.pop("user_set", None)
        group.name = data.get("name", group.name)
        try:
            return services.save_group(group, members=members)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None

    def create(self, validated_data):
        return self.save_group(Group())

    def update(self, instance, validated_data):
        return self.save_group(instance)


class GrantSerializer(serializers.ModelSerializer):
    host = serializers.PrimaryKeyRelatedField(queryset=Host.objects.all(), required=False, allow_null=True)
    instance = serializers.PrimaryKeyRelatedField(queryset=Instance.objects.all(), required=False, allow_null=True)
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Grant
        fields = ["id", "user", "group", "role", "host", "instance", "lifecycle", "console", "snapshots", "edit",
                  "migrate", "allowed_actions", "created"]
        read_only_fields = ["created"]

    def save_grant(self, grant):
        for name, value in self.validated_data.items():
            setattr(grant, name, value)
        try:
            return services.save_grant(grant)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None

    def create(self, validated_data):
        return self.save_grant(Grant())

    def update(self, instance, validated_data):
        return self.save_grant(instance)
