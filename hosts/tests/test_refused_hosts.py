"""A stored host whose URI today's settings refuse: its state says why, quietly, and the fleet carries on.

Such a row exists when settings change under saved hosts (the test driver turned off,
a node directory removed) or a node file changes after the host was saved.
"""
import logging

import pytest

from core.models import Job
from hosts import tasks
from hosts.models import Host
from hosts.sync import sync_host

pytestmark = pytest.mark.django_db(transaction=True)

REASONS = {
    "outside-the-node-directories": ("test:///srv/elsewhere/node.xml", "VIRTDECK_TEST_NODE_DIRS"),
    "symlink-out": ("test://{nodes}/link.xml", "inside an allowed directory"),
    "loads-another-file": ("test://{nodes}/loads.xml", "must not load other files"),
    "not-in-the-allowlist": ("qemu+ssh://h/system?command=/bin/sh", "'command' is not allowed"),
}


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def refused_uris(node_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-LINE-Qx7\n")
    (node_dir / "link.xml").symlink_to(secret)
    (node_dir / "loads.xml").write_text(f"<node><domain file='{secret}'/></node>")
    return {name: (uri.format(nodes=node_dir), reason) for name, (uri, reason) in REASONS.items()}


def assert_quiet(logs):
    """At most one log line about it, and never a traceback."""
    assert not [r for r in logs.records if r.exc_info], logs.text
    assert len([r for r in logs.records if r.levelno >= logging.WARNING]) <= 1, logs.text
    assert "SECRET-LINE" not in logs.text


def assert_marked(host, reason):
    host.refresh_from_db()
    assert host.state == Host.State.UNREACHABLE and reason in host.last_error, host.last_error
    assert "SECRET-LINE" not in host.last_error


@pytest.mark.parametrize("case", sorted(REASONS))
def test_it_marks_a_refused_host_in_every_sync_and_syncs_the_others(make_host, refused_uris, logs, case):
    good = make_host("small")
    uri, reason = refused_uris[case]
    refused = Host.objects.create(name="refused", uri=uri)
    logs.clear()
    assert sync_host(refused) is None  # the periodic sync (watcher catch-up, tests)
    tasks.sync_host(refused.pk)  # the Celery task on the inventory worker, run inline
    assert_marked(refused, reason)
    assert_quiet(logs)
    assert sync_host(good) == 3 and Host.objects.get(pk=good.pk).state == Host.State.UP


def test_it_marks_every_test_driver_host_when_the_driver_is_turned_off(make_host, settings, logs):
    host = make_host("small")
    settings.VIRTDECK_ALLOW_TEST_DRIVER = False
    logs.clear()
    assert sync_host(host) is None
    assert_marked(host, "VIRTDECK_ALLOW_TEST_DRIVER")
    assert_quiet(logs)


def test_it_fails_a_refresh_job_of_a_refused_host_with_the_reason(make_host, refused_uris, logs):
    uri, reason = refused_uris["loads-another-file"]
    refused = Host.objects.create(name="refused", uri=uri)
    job = Job.objects.create(kind=tasks.refresh_host.kind, params={"host_id": refused.pk})
    logs.clear()
    assert tasks.refresh_host.run(job.pk, host_id=refused.pk) == "failed"
    job.refresh_from_db()
    assert reason in job.error and "SECRET-LINE" not in job.error
    assert not [r for r in logs.records if r.exc_info], logs.text


def test_it_keeps_watching_the_fleet_when_a_host_is_refused(watcher, make_host, refused_uris, logs):
    good = make_host("small")
    refused = [Host.objects.create(name=name, uri=uri) for name, (uri, _reason) in refused_uris.items()]
    logs.clear()
    for _ in range(3):  # every rescan (each 2 s), not only the first
        watcher.rescan()
    assert set(watcher.subscriptions) == {good.pk}
    for host, (_uri, reason) in zip(refused, refused_uris.values()):
        assert_marked(host, reason)
    assert not [r for r in logs.records if r.exc_info], logs.text
    assert "SECRET-LINE" not in logs.text


def test_it_drops_a_watched_host_whose_node_file_becomes_refused(watcher, make_host, node_dir, tmp_path, logs):
    good = make_host("small")
    node = node_dir / "node.xml"
    node.write_text("<node/>")
    changing = make_host("changing", uri=f"test://{node}")
    watcher.rescan()
    assert set(watcher.subscriptions) == {good.pk, changing.pk}
    (tmp_path / "secret.txt").write_text("SECRET-LINE-Qx7\n")
    node.write_text(f"<node><network file='{tmp_path / 'secret.txt'}'/></node>")
    logs.clear()
    watcher.rescan()
    watcher.rescan()
    assert set(watcher.subscriptions) == {good.pk}
    assert_marked(changing, "must not load other files")
    assert not [r for r in logs.records if r.exc_info], logs.text


def test_it_shows_the_reason_on_the_host_page(admin_client, refused_uris):
    uri, reason = refused_uris["symlink-out"]
    refused = Host.objects.create(name="refused", uri=uri)
    sync_host(refused)
    page = admin_client.get(refused.get_absolute_url())
    assert page.status_code == 200 and reason in page.content.decode()
