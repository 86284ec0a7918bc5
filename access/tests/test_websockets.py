"""Websockets, enumerated from the ASGI router: anonymous is refused on each; the live push reaches only those
who may see the event's object; a console ticket is only issued and redeemed for a VM with the console grant."""
import pytest
from asgiref.sync import sync_to_async

from access.models import Grant
from console import tickets
from console.refusals import Refusal
from core.events import publish, publish_many
from core.models import Job
from core.testing.personas import make_personas
from core.testing.routes import websocket_routes
from core.testing.websockets import live_page, socket

pytestmark = pytest.mark.django_db(transaction=True)
WEBSOCKETS = websocket_routes()


async def first_message(communicator):
    connected, _ = await communicator.connect()
    assert connected
    return await communicator.receive_output(timeout=10)


@pytest.fixture
def world(make_host):
    return make_personas(make_host)


def test_it_enumerates_the_websocket_routes():
    assert {route.pattern for route in WEBSOCKETS} >= {"ws/inventory/", "ws/instances/<int:pk>/vnc/"}


@pytest.mark.parametrize("route", WEBSOCKETS, ids=[r.pattern for r in WEBSOCKETS])
async def test_it_refuses_anonymous_websockets(world, route):
    message = await first_message(await socket(route.path(pk=world["vm"].pk)))
    assert message["type"] == "websocket.close" and message["code"] == Refusal.NOT_LOGGED_IN


@pytest.mark.parametrize("route", [r for r in WEBSOCKETS if "pk" in r.kwargs],
                         ids=[r.pattern for r in WEBSOCKETS if "pk" in r.kwargs])
async def test_it_refuses_the_outsider_a_console_even_with_an_admins_ticket(world, route):
    kind = route.pattern.rstrip("/").rsplit("/", 1)[-1]
    ticket, _ = await sync_to_async(tickets.issue)(world["admin"], world["vm"], kind)
    message = await first_message(await socket(route.path(pk=world["vm"].pk) + f"?ticket={ticket}",
                                               world["outsider"]))
    assert message["type"] == "websocket.close" and message["code"] == Refusal.OTHER_USER


async def test_it_refuses_a_ticket_once_the_console_grant_is_withdrawn(world):
    ticket, _ = await sync_to_async(tickets.issue)(world["operator"], world["vm"], "vnc")
    await sync_to_async(Grant.objects.filter(user=world["operator"]).update)(console=False)
    message = await first_message(await socket(f"/ws/instances/{world['vm'].pk}/vnc/?ticket={ticket}",
                                               world["operator"]))
    assert message["code"] == Refusal.OTHER_VM


async def test_it_pushes_only_the_events_the_user_may_see(world):
    operator, outsider, admin = [await live_page(world[name]) for name in ("operator", "outsider", "admin")]
    vm, other = world["vm"], world["other_vm"]
    await sync_to_async(publish)("instance", id=other.pk, host=other.host_id, state="running")
    await sync_to_async(publish)("host", id=world["host"].pk, state="up")
    await sync_to_async(publish)("instance", id=vm.pk, host=vm.host_id, state="paused")
    own_job = await sync_to_async(Job.objects.create)(kind="test", user=world["outsider"])
    await sync_to_async(publish)("job", id=own_job.pk, status="queued", progress=0)
    # Events arrive in order: each user's first one is the first they may see; those before it never came.
    assert (await operator.receive_json_from(timeout=5))["data"]["id"] == vm.pk
    assert (await outsider.receive_json_from(timeout=5)) == {"kind": "job", "data": {
        "id": own_job.pk, "status": "queued", "progress": 0}}
    assert [(await admin.receive_json_from(timeout=5))["kind"] for _ in range(4)] == [
        "instance", "host", "instance", "job"]
    for communicator in (operator, outsider, admin):
        await communicator.disconnect()


async def test_it_pushes_only_the_events_of_a_batch_the_user_may_see(world):
    operator, outsider, admin = [await live_page(world[name]) for name in ("operator", "outsider", "admin")]
    vm, other, host = world["vm"], world["other_vm"], world["host"]
    batch = [{"id": other.pk, "host": host.pk, "state": "shutoff"},  # a bulk action's rows (publish_many)
             {"id": vm.pk, "host": host.pk, "state": "shutoff"},
             {"host": host.pk, "uuid": "00000000-0000-4000-8000-000000000099", "deleted": True}]
    await sync_to_async(publish_many)("instance", batch)
    own_job = await sync_to_async(Job.objects.create)(kind="test", user=world["outsider"])
    await sync_to_async(publish)("job", id=own_job.pk, status="queued", progress=0)
    assert await operator.receive_json_from(timeout=5) == {"kind": "instance", "data": batch[1]}
    # The outsider's first message is their own job's: none of the batch came before it.
    assert (await outsider.receive_json_from(timeout=5))["kind"] == "job"
    assert [await admin.receive_json_from(timeout=5) for _ in batch] == [
        {"kind": "instance", "data": data} for data in batch]
    for communicator in (operator, outsider, admin):
        await communicator.disconnect()
