"""Every page, API route and websocket needs a login; tokens for scripts."""
import pytest

from core.testing.routes import url_routes
from core.testing.websockets import INVENTORY, socket

PUBLIC = {"login", "set_language"}  # the only page an anonymous visitor may see, and the language switcher
ALL_ROUTES = sorted({(route.name, route.path()) for route in url_routes()}, key=lambda route: route[1])
# Login is public; Django's admin has its own login gate (checked below).
ROUTES = [(name, path) for name, path in ALL_ROUTES if name not in PUBLIC and not path.startswith("/admin/")]


def test_it_enumerates_every_app_route():
    names = {name for name, _ in ROUTES}
    assert {"dashboard", "host_list", "host_detail", "instance_list", "job_list", "job_cancel", "host-list",
            "instance-list", "job-list", "job-cancel", "api-schema", "api-docs", "api-token"} <= names
    assert len(ROUTES) > 20


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), ROUTES, ids=[p for _, p in ROUTES])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_it_refuses_anonymous_requests(client, name, path, method):
    response = getattr(client, method)(path)
    if path.startswith("/api/") or name == "prometheus":  # /metrics: tokens, as the API
        if name == "api-token":
            assert response.status_code in (400, 405)  # needs credentials; never a token for nobody
        else:
            assert response.status_code in (401, 403), (path, response.status_code)
    else:
        assert response.status_code == 302 and response["Location"].startswith("/login/"), (path, response.status_code)


@pytest.mark.django_db
def test_it_sends_anonymous_admin_visitors_to_a_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_it_issues_a_token_for_valid_credentials_only(client, admin_user):
    from core.testing import PASSWORD

    bad = client.post("/api/auth/token/", {"username": "admin", "password": "wrong"})
    assert bad.status_code == 400 and "token" not in bad.json()
    good = client.post("/api/auth/token/", {"username": "admin", "password": PASSWORD})
    assert good.status_code == 200
    token = good.json()["token"]
    response = client.get("/api/instances/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert client.get("/api/instances/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


@pytest.mark.django_db
def test_it_requires_csrf_for_session_writes(admin_user, make_host):
    from django.test import Client

    host = make_host("small")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(f"/api/hosts/{host.pk}/refresh/").status_code == 403
    assert strict.post(f"/hosts/{host.pk}/refresh/").status_code == 403
    assert strict.get(f"/hosts/{host.pk}/refresh/").status_code == 405  # mutations are POST only


@pytest.mark.django_db(transaction=True)
async def test_it_closes_anonymous_websockets():
    communicator = await socket(INVENTORY)
    connected, _ = await communicator.connect()
    assert connected  # accepted only to say why it closes: the browser sees 4401 and stops retrying
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
