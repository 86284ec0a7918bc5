import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "vd_"  # every virtdeck API token starts so: DRF's own tokens (40 hex characters) never do


def hash_secret(secret):
    """Tokens are 32 random bytes: a plain SHA-256 is enough (no password to stretch)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(models.Q(expires__isnull=True) | models.Q(expires__gt=timezone.now()))


class ApiToken(models.Model):
    """A named API token of one user. Only its hash is stored; the secret is shown once, at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True)  # public part, to find the row without the secret
    key_hash = models.CharField(max_length=64)
    read_only = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user")]

    def __str__(self):
        return self.name

    @classmethod
    def issue(cls, user, name, read_only=False, expires=None):
        """Create a token; returns (token, secret). The secret exists only in this return value."""
        key_id = secrets.token_hex(6)
        secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(user=user, name=name, key_id=key_id, key_hash=hash_secret(secret),
                                   read_only=read_only, expires=expires)
        return token, secret

    @property
    def expired(self):
        return self.expires is not None and self.expires <= timezone.now()

    def matches(self, secret):
        return hmac.compare_digest(self.key_hash, hash_secret(secret))

    @staticmethod
    def key_id_of(secret):
        """The key id inside a secret `vd_<key id>_<random>`, or None if it is not shaped so."""
        if not secret.startswith(PREFIX):
            return None
        key_id, sep, rest = secret[len(PREFIX):].partition("_")
        return key_id if sep and rest and len(key_id) == 12 else None
