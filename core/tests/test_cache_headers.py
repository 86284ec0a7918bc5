"""Logged-in pages and API answers are never stored by browsers or proxies; static files are."""
import pytest
from rest_framework.authtoken.models import Token

from core.middleware import TOKEN_PREFIXES
from core.tests.test_auth import ROUTES

pytestmark = pytest.mark.django_db

PAGES = [path for _, path in ROUTES if not path.startswith(TOKEN_PREFIXES)]
API = [path for _, path in ROUTES if path.startswith(TOKEN_PREFIXES)]


def assert_no_store(response):
    assert "no-store" in response.get("Cache-Control", ""), (response.status_code, response.get("Cache-Control"))


@pytest.mark.parametrize("path", PAGES)
def test_it_marks_every_logged_in_page_no_store(admin_client, path):
    assert_no_store(admin_client.get(path))


@pytest.mark.parametrize("path", API)
def test_it_marks_every_api_answer_no_store(client, admin_user, path):
    token = Token.objects.create(user=admin_user)
    assert_no_store(client.get(path, HTTP_AUTHORIZATION=f"Token {token.key}"))
    assert_no_store(client.get(path))  # refusals too


def test_it_marks_the_answer_to_a_login_no_store(client, admin_user):
    from core.testing import PASSWORD

    response = client.post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert_no_store(response)
    assert_no_store(client.get("/"))


def test_it_lets_static_files_be_cached(admin_client):
    response = admin_client.get("/static/js/live.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
