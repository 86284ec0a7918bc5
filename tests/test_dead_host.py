"""A host that accepts TCP and never answers must not slow anything else down."""
import threading

import pytest

from hosts.models import Host
from hosts.sync import sync_host

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_keeps_pages_and_api_answering_while_a_host_hangs(admin_client, api, make_host, silent_port):
    healthy = [make_host("small"), make_host("fleet")]
    dead = Host.objects.create(name="hung", uri=f"qemu+tcp://127.0.0.1:{silent_port}/system")

    hanging = threading.Thread(target=sync_host, args=(dead,))
    hanging.start()
    try:
        # While the dead host's sync is stuck in its connect, everything else answers.
        for url in ("/", "/hosts/", "/instances/", f"/hosts/{healthy[0].pk}/"):
            assert admin_client.get(url).status_code == 200, url
        for url in ("/api/hosts/", "/api/instances/", "/api/instances/?host=%d" % healthy[1].pk):
            assert api.get(url).status_code == 200, url
        assert sync_host(healthy[0]) == 3  # other hosts sync normally meanwhile
        assert hanging.is_alive(), "the pages must have answered while the dead host was still hanging"
    finally:
        hanging.join(timeout=30)

    dead.refresh_from_db()
    assert dead.state == "unreachable" and "no answer" in dead.last_error
    page = admin_client.get("/hosts/").content.decode()
    assert "unreachable" in page and "no answer" in page
    body = {h["name"]: h for h in api.get("/api/hosts/").json()["results"]}
    assert body["hung"]["state"] == "unreachable"
    assert body["small"]["state"] == body["fleet"]["state"] == "up"

    # The next sync fails fast from the backoff state instead of waiting again.
    assert sync_host(dead) is None
