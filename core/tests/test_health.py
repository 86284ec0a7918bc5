"""Health of the machinery: heartbeats in the real Redis, the degraded banner, GET /api/health/."""
import socket

import pytest
from django.test import override_settings

from core import health

pytestmark = pytest.mark.django_db

BANNER = "virtdeck is degraded."


@pytest.fixture(autouse=True)
def no_heartbeats():
    """Each test starts with no heartbeat in the suite's Redis and nothing cached."""
    health.client().delete(*(health.KEY.format(name) for name in health.COMPONENTS))
    health._cached = (0.0, None)
    yield
    health._cached = (0.0, None)


@pytest.fixture
def dead_redis(tmp_path):
    """A unix socket path nothing listens on (a killed Redis leaves its socket file): refused at once."""
    path = tmp_path / "redis.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    with override_settings(REDIS_URL=f"unix://{path}"):
        yield


@pytest.fixture
def hung_redis(tmp_path):
    """A unix socket that accepts and never answers, like a stopped (SIGSTOP) Redis."""
    path = tmp_path / "hung.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        sock.listen(8)
        with override_settings(REDIS_URL=f"unix://{path}"):
            yield


def beat_all(but=()):
    for name in health.COMPONENTS:
        if name not in but:
            health.beat(name)


def test_it_shows_no_banner_while_everything_beats(admin_client, api):
    beat_all()
    page = admin_client.get("/").content.decode()
    assert 'id="health-banner"' in page and BANNER not in page
    body = api.get("/api/health/").json()
    assert body["degraded"] is False
    assert set(body["components"]) == {"redis", "worker", "inventory", "beat", "watcher"}
    assert all(c["up"] for c in body["components"].values())
    assert body["components"]["worker"]["last_seen"]


def test_it_names_each_component_that_stopped_beating(admin_client, api):
    beat_all(but=("watcher", "inventory"))
    page = admin_client.get("/hosts/").content.decode()
    assert BANNER in page
    assert "host watcher is down: changes made outside virtdeck show up late." in page
    assert "inventory worker is down: hosts are not synced." in page
    assert "job worker is down" not in page
    components = api.get("/api/health/").json()["components"]
    assert [name for name, c in components.items() if not c["up"]] == ["inventory", "watcher"]


def test_it_updates_the_banner_alone_when_polled(admin_client):
    assert BANNER in admin_client.get("/health/banner/").content.decode()
    beat_all()
    health._cached = (0.0, None)
    fragment = admin_client.get("/health/banner/").content.decode()
    assert fragment.startswith('<div id="health-banner"') and BANNER not in fragment


def test_it_reports_a_dead_redis_at_once_and_still_serves_pages(admin_client, api, dead_redis):
    page = admin_client.get("/")
    assert page.status_code == 200
    assert "Redis is down: jobs, inventory syncs and live updates are stopped." in page.content.decode()
    body = api.get("/api/health/").json()
    assert body["degraded"] is True and body["components"]["redis"]["up"] is False
    assert not any(c["up"] for c in body["components"].values())


def test_it_gives_up_on_a_hung_redis_after_its_short_timeout(admin_client, hung_redis):
    page = admin_client.get("/instances/")
    assert page.status_code == 200 and "Redis is down" in page.content.decode()


def test_it_never_raises_from_a_heartbeat_while_redis_is_down(dead_redis):
    health.beat("watcher")  # logged at debug level, nothing raised
    assert health.status().redis_up is False


def test_it_needs_a_login_for_health(client):
    assert client.get("/api/health/").status_code == 401
    assert client.get("/health/banner/").status_code == 302
    assert BANNER not in client.get("/login/").content.decode()
