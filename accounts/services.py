"""API tokens: issued, listed and revoked by their owner only."""
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from virt.errors import InvalidConfig

from .models import ApiToken


def issue_token(user, name, read_only=False, expires_in_days=None):
    """(token, secret): the secret is returned once and never stored."""
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with transaction.atomic():
            return ApiToken.issue(user, name, read_only=read_only, expires=expires)
    except IntegrityError:
        raise InvalidConfig(_("name: you already have a token named %(name)s.") % {"name": name}) from None


def tokens_of(user):
    return ApiToken.objects.filter(user=user)
