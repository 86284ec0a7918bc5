"""Credentials at rest: one Fernet per key, and an undecryptable value reads as empty (logged) instead of a 500."""
import logging

import pytest
from django.db import connection
from django.test import override_settings

from core import crypto


def test_it_builds_one_fernet_per_key_material():
    first = crypto._fernet()
    assert crypto._fernet() is first
    with override_settings(ENCRYPTION_KEY="Y2xlYXJseS1ub3QtYS1yZWFsLWtleS0zMi1ieXRlcyE="):
        other = crypto._fernet()
        assert other is not first and crypto._fernet() is other
        assert crypto.decrypt(crypto.encrypt("s3cret")) == "s3cret"
    assert crypto._fernet() is first


@pytest.mark.django_db
def test_it_reads_an_undecryptable_credential_as_empty_and_logs_the_field(make_host, admin_client, caplog):
    from hosts.models import Host

    host = make_host("small", password="hunter2")
    bogus = "gAAAAABnot-a-token-from-this-key"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Host._meta.db_table} SET password = %s WHERE id = %s", [bogus, host.pk])
    with caplog.at_level(logging.ERROR, logger="core.crypto"):
        assert Host.objects.get(pk=host.pk).password == ""
        assert admin_client.get(host.get_absolute_url()).status_code == 200
    assert "hosts.Host.password" in caplog.text and bogus not in caplog.text


@pytest.mark.django_db
def test_it_keeps_an_undecryptable_credential_when_the_row_is_saved(make_host):
    from hosts.models import Host

    host = make_host("small", password="hunter2")
    bogus = "gAAAAABnot-a-token-from-this-key"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Host._meta.db_table} SET password = %s WHERE id = %s", [bogus, host.pk])
    loaded = Host.objects.get(pk=host.pk)
    loaded.description = "edited while the key was wrong"
    loaded.save()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT password FROM {Host._meta.db_table} WHERE id = %s", [host.pk])
        assert cursor.fetchone()[0] == bogus  # recoverable once the right key is back
