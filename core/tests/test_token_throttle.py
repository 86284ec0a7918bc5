"""The token endpoint slows password guessing: 10 tries a minute, then 429."""
import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_throttle():
    cache.clear()  # the throttle's history lives in the default cache
    yield
    cache.clear()


def test_it_answers_429_to_the_eleventh_bad_attempt(client, admin_user):
    for _ in range(10):
        response = client.post("/api/auth/token/", {"username": "admin", "password": "guess"})
        assert response.status_code == 400
    response = client.post("/api/auth/token/", {"username": "admin", "password": "guess"})
    assert response.status_code == 429 and "Retry-After" in response


def test_it_still_issues_a_token_below_the_rate(client, admin_user):
    from core.testing import PASSWORD

    for _ in range(3):
        client.post("/api/auth/token/", {"username": "admin", "password": "guess"})
    assert client.post("/api/auth/token/", {"username": "admin", "password": PASSWORD}).status_code == 200
