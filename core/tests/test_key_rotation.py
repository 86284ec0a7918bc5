"""Rotating the secret key and the credential key: stored credentials stay readable through the fallbacks, and
`rotate_credential_key` re-encrypts them so that the old keys can go. Checked on the raw column with Fernet."""
import base64
import os

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from core.testing import node_uri
from hosts.models import Host

pytestmark = pytest.mark.django_db


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def raw_password(host):
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM hosts_host WHERE id = %s", [host.pk])
        return cursor.fetchone()[0]


def stored(host):
    return Host.objects.get(pk=host.pk).password


def test_it_reads_old_values_through_fallbacks_and_rewrites_them_with_the_new_key(settings):
    old, new = new_key(), new_key()
    settings.ENCRYPTION_KEY, settings.ENCRYPTION_KEY_FALLBACKS = old, []
    host = Host.objects.create(name="h", uri=node_uri("small"), password="sasl-Zq9")
    settings.ENCRYPTION_KEY = new
    assert stored(host) == ""  # the new key alone cannot read it
    settings.ENCRYPTION_KEY_FALLBACKS = [old]
    assert stored(host) == "sasl-Zq9"
    call_command("rotate_credential_key", stdout=open(os.devnull, "w"))
    assert Fernet(new.encode()).decrypt(raw_password(host).encode()) == b"sasl-Zq9"
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(raw_password(host).encode())
    settings.ENCRYPTION_KEY_FALLBACKS = []
    assert stored(host) == "sasl-Zq9"


def test_it_moves_credentials_derived_from_an_old_secret_key(settings):
    settings.ENCRYPTION_KEY, settings.SECRET_KEY = "", "old-secret-" + "x" * 40
    host = Host.objects.create(name="h", uri=node_uri("small"), password="sasl-Zq9")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-secret-" + "y" * 40, ["old-secret-" + "x" * 40]
    assert stored(host) == "sasl-Zq9"
    call_command("rotate_credential_key", stdout=open(os.devnull, "w"))
    settings.SECRET_KEY_FALLBACKS = []
    assert stored(host) == "sasl-Zq9"
    # From a derived key to an explicit one: the current secret key is read as a fallback.
    settings.ENCRYPTION_KEY = new_key()
    assert stored(host) == "sasl-Zq9"


def test_it_names_what_no_key_reads_and_leaves_it_untouched(settings):
    settings.ENCRYPTION_KEY, settings.ENCRYPTION_KEY_FALLBACKS = new_key(), []
    host = Host.objects.create(name="h", uri=node_uri("small"), password="sasl-Zq9")
    before = raw_password(host)
    settings.ENCRYPTION_KEY = new_key()
    with pytest.raises(CommandError) as refused:
        call_command("rotate_credential_key", stdout=open(os.devnull, "w"))
    assert f"hosts.Host {host.pk} password" in str(refused.value) and "sasl-Zq9" not in str(refused.value)
    assert raw_password(host) == before
