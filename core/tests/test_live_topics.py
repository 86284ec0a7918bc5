"""Live pushes go only to the pages that show the changed object: a page names its topics, its websocket joins
their groups, and an event reaches the groups of its kind, its object, its host and its job's target."""
import pytest
from asgiref.sync import sync_to_async
from channels_redis.core import RedisChannelLayer

from core.consumers import topic_groups
from core.events import GROUP, groups_for, publish, publish_many
from core.testing.websockets import live_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("query", "groups"), [
    (b"", [GROUP]),
    (b"topics=", [GROUP]),
    (b"topics=host:3+job", ["live.host.3", "live.job"]),
    (b"topics=instance%3A12", ["live.instance.12"]),
    (b"topics=nope:1+host:x+host:-1+host:1.5+host:" + "١".encode() + b"+host:" + b"9" * 40, [GROUP]),
    (b"topics=" + b"+".join(b"job:%d" % i for i in range(50)), [f"live.job.{i}" for i in range(10)]),
])
def test_it_reads_topics_and_ignores_unknown_ones(query, groups):
    assert topic_groups(query) == groups


def test_it_routes_an_event_to_its_object_host_and_target():
    assert groups_for("instance", {"id": 5, "host": 2}) == [GROUP, "live.instance", "live.instance.5", "live.host.2"]
    assert groups_for("job", {"id": 9, "host": 2, "target": "instance:5"}) == [
        GROUP, "live.job", "live.job.9", "live.host.2", "live.instance.5"]
    assert groups_for("host", {"id": 2}) == [GROUP, "live.host", "live.host.2"]
    assert groups_for("job", {"id": 9, "host": None, "target": None}) == [GROUP, "live.job", "live.job.9"]


async def test_it_pushes_only_to_pages_showing_the_object(admin_user):
    vm_page = await live_page(admin_user, "instance:5")
    other_vm_page = await live_page(admin_user, "instance:6")
    host_page = await live_page(admin_user, "host:2")
    old_page = await live_page(admin_user)  # names no topics: gets everything, as before
    await sync_to_async(publish)("instance", id=5, host=2, state="paused")
    expected = {"kind": "instance", "data": {"id": 5, "host": 2, "state": "paused"}}
    assert await vm_page.receive_json_from(timeout=5) == expected
    assert await host_page.receive_json_from(timeout=5) == expected
    assert await old_page.receive_json_from(timeout=5) == expected
    assert await other_vm_page.receive_nothing(timeout=0.5)
    for communicator in (vm_page, other_vm_page, host_page, old_page):
        await communicator.disconnect()


async def test_it_sends_a_batch_only_to_the_groups_someone_listens_to(admin_user, monkeypatch):
    sent = []
    real_group_send = RedisChannelLayer.group_send

    async def spy(layer, group, message):
        sent.append(group)
        return await real_group_send(layer, group, message)

    monkeypatch.setattr(RedisChannelLayer, "group_send", spy)
    vm_page = await live_page(admin_user, "instance:5")
    host_page = await live_page(admin_user, "host:3")
    items = [{"id": n, "host": 2 + n % 2, "state": "shutoff"} for n in range(1, 41)]  # a bulk action's rows
    await sync_to_async(publish_many)("instance", items)
    # Nobody shows the other 39 VMs nor host 2: no send to their groups (GROUP and "live.instance" may have
    # members left by other tests of the session).
    assert {group for group in sent if group.startswith(("live.instance.", "live.host."))} == {
        "live.instance.5", "live.host.3"}
    assert await vm_page.receive_json_from(timeout=5) == {"kind": "instance", "data": items[4]}
    assert [await host_page.receive_json_from(timeout=5) for _ in range(20)] == [
        {"kind": "instance", "data": data} for data in items if data["host"] == 3]
    for communicator in (vm_page, host_page):
        await communicator.disconnect()
