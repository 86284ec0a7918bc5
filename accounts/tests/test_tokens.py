"""Named API tokens: issued once, stored hashed, read-only refused on writes, expiry, revocation, ownership."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from hosts.models import Host

pytestmark = pytest.mark.django_db


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def issue(api, **fields):
    response = api.post("/api/tokens/", {"name": "backup", **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_shows_the_secret_once_and_stores_only_its_hash(api):
    body = issue(api)
    secret = body["token"]
    assert secret.startswith("vd_") and len(secret) > 40
    listed = api.get("/api/tokens/").json()["results"]
    assert [row["name"] for row in listed] == ["backup"] and "token" not in listed[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert secret not in repr(cursor.fetchall())
    assert bearer(secret).get("/api/hosts/").status_code == 200
    assert ApiToken.objects.get().last_used is not None


def test_it_refuses_every_write_with_a_read_only_token(api, make_host):
    host = make_host("small")
    secret = issue(api, read_only=True)["token"]
    client = bearer(secret)
    assert client.get(f"/api/hosts/{host.pk}/").status_code == 200
    writes = [client.post("/api/hosts/", {"name": "x", "uri": "test:///default"}, format="json"),
              client.patch(f"/api/hosts/{host.pk}/", {"description": "changed"}, format="json"),
              client.delete(f"/api/hosts/{host.pk}/"),
              client.post(f"/api/hosts/{host.pk}/refresh/"),
              client.post("/api/tokens/", {"name": "escalate"}, format="json")]
    for response in writes:
        assert response.status_code == 403 and "read-only" in response.json()["detail"], response.content
    assert Host.objects.get(pk=host.pk).description == "" and ApiToken.objects.count() == 1


def test_it_refuses_expired_revoked_and_forged_tokens(api, admin_user):
    token, secret = ApiToken.issue(admin_user, "old", expires=timezone.now() - timedelta(seconds=1))
    assert bearer(secret).get("/api/hosts/").status_code == 401
    live = issue(api, name="live")
    forged = live["token"][:-4] + "AAAA"
    assert bearer(forged).get("/api/hosts/").status_code == 401
    assert api.delete(f"/api/tokens/{live['id']}/").status_code == 204
    assert bearer(live["token"]).get("/api/hosts/").status_code == 401
    assert bearer("vd_notatoken").get("/api/hosts/").status_code == 401


def test_it_keeps_the_existing_token_endpoint_working(client, admin_user):
    from core.testing import PASSWORD

    response = client.post("/api/auth/token/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert bearer(response.json()["token"]).get("/api/hosts/").status_code == 200


def test_it_shows_and_revokes_only_your_own_tokens(api, admin_user, member):
    mine = issue(api)
    theirs, _secret = ApiToken.issue(member, "theirs")
    assert [row["name"] for row in api.get("/api/tokens/").json()["results"]] == ["backup"]
    assert api.get(f"/api/tokens/{theirs.pk}/").status_code == 404
    assert api.delete(f"/api/tokens/{theirs.pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists() and ApiToken.objects.filter(pk=mine["id"]).exists()


@pytest.mark.parametrize("payload", [{"name": ""}, {"name": "a" * 101}, {"name": "bell\x07"},
                                     {"name": "x", "expires_in_days": 0}, {"name": "x", "expires_in_days": 10**6},
                                     {"name": ["list"]}])
def test_it_refuses_bad_input(api, payload):
    assert api.post("/api/tokens/", payload, format="json").status_code == 400
    assert not ApiToken.objects.exists()


def test_it_refuses_a_duplicate_name(api):
    issue(api)
    response = api.post("/api/tokens/", {"name": "backup"}, format="json")
    assert response.status_code == 400 and "already have" in response.json()["detail"]


def test_it_issues_and_revokes_from_the_page_without_keeping_the_secret(admin_client, admin_user):
    page = reverse("accounts:token_list")
    response = admin_client.post(page, {"name": "ci", "read_only": "on", "expires_in_days": "30"})
    token = ApiToken.objects.get(name="ci")
    assert response.status_code == 200 and token.read_only and token.expires is not None
    secret = response.context["secret"]
    assert secret in response.content.decode() and "no-store" in response["Cache-Control"]
    assert secret not in admin_client.get(page).content.decode()  # shown once
    assert admin_client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 302
    assert not ApiToken.objects.exists()


def test_it_needs_login_and_csrf_on_the_page(client, admin_user):
    page = reverse("accounts:token_list")
    assert client.get(page)["Location"].startswith("/login/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(page, {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()
