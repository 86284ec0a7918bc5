"""Encryption at rest for host credentials (Fernet, keyed from the environment)."""
import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _fernet_from_key(key):
    return Fernet(key.encode())


@functools.lru_cache(maxsize=4)
def _fernet_from_secret(secret_key):
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"virtdeck", info=b"credentials").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet():
    """One Fernet per key material (cached: HKDF and key parsing ran on every value of every row)."""
    key = settings.ENCRYPTION_KEY
    return _fernet_from_key(key) if key else _fernet_from_secret(settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _readers(key, secret_key, key_fallbacks, secret_key_fallbacks):
    """The current key first, then each older one, for reading values written before a rotation: earlier
    credential keys, and keys derived from the current and earlier secret keys (used while no credential key
    was set)."""
    current = _fernet_from_key(key) if key else _fernet_from_secret(secret_key)
    older = [_fernet_from_key(k) for k in key_fallbacks]
    older += [_fernet_from_secret(s) for s in ((secret_key,) if key else ()) + secret_key_fallbacks]
    return MultiFernet([current, *older])


def _reader():
    return _readers(settings.ENCRYPTION_KEY, settings.SECRET_KEY, tuple(settings.ENCRYPTION_KEY_FALLBACKS),
                    tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def encrypt(text):
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token):
    if not token:
        return ""
    try:
        return _reader().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored credential cannot be decrypted: was VIRTDECK_ENCRYPTION_KEY changed?") from None


class Undecryptable(str):
    """An empty string standing for ciphertext this key cannot read; saved back unchanged."""

    def __new__(cls, token):
        value = super().__new__(cls, "")
        value.token = token
        return value


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plain text.

    A value that does not decrypt (a key rotation mix-up) reads as "" and is logged by field name,
    so one bad row does not break every page that loads it; saving the row keeps the original
    ciphertext, so fixing the key later recovers it. List views defer these fields.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        try:
            return _reader().decrypt(value.encode()).decode()
        except InvalidToken:
            log.error("%s.%s: stored credential cannot be decrypted (was VIRTDECK_ENCRYPTION_KEY changed?); "
                      "read as empty", self.model._meta.label, self.name)
            return Undecryptable(value)

    def get_prep_value(self, value):
        if isinstance(value, Undecryptable):
            return value.token
        return encrypt(value) if value else ""
