"""Login protection (django-axes): repeated failures pause logins for the account and for the address."""
import pytest
from django.test import Client
from django.urls import reverse

from core.testing import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, username, password, address="127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_it_pauses_an_account_after_five_failures_even_with_the_right_password(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, admin_user.username, "wrong").status_code == 200  # the form again, with its error
    assert attempt(client, admin_user.username, "wrong").status_code == 429  # the last failure allowed
    locked = attempt(client, admin_user.username, PASSWORD)
    assert locked.status_code == 429 and 'id="locked-out"' in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The same account from another address is paused too: guessing from many places does not help.
    assert attempt(Client(), admin_user.username, PASSWORD, address="127.0.0.9").status_code == 429


def test_it_pauses_an_address_that_tries_many_accounts(client, admin_user, member, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"nobody{number}", "wrong", address="127.0.0.7")
    assert attempt(client, member.username, PASSWORD, address="127.0.0.7").status_code == 429
    assert attempt(Client(), member.username, PASSWORD, address="127.0.0.8").status_code == 302  # elsewhere: fine


def test_it_logs_failed_logins(client, admin_user, caplog):
    with caplog.at_level("WARNING"):
        attempt(client, admin_user.username, "wrong-pass-123", address="127.0.0.5")
    failures = [r.getMessage() for r in caplog.records if "login failure" in r.getMessage()]
    assert failures and admin_user.username in failures[0] and "127.0.0.5" in failures[0]
    assert "wrong-pass-123" not in caplog.text


def test_it_refuses_the_token_endpoint_for_a_paused_account(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, admin_user.username, "wrong")
    response = Client().post("/api/auth/token/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 400 and "token" not in response.json()
