"""Console websockets refuse every connection without a valid ticket of their own, with a code that says why."""
import pytest
from asgiref.sync import sync_to_async

from console import tickets
from console.refusals import Refusal
from core.testing.websockets import socket
from instances.models import Instance

pytestmark = pytest.mark.django_db(transaction=True)


async def close_code(communicator):
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == "binary"
    message = await communicator.receive_output(timeout=10)
    await communicator.disconnect()
    assert message["type"] == "websocket.close", message
    return message["code"], message.get("reason")


@pytest.fixture
def vms(make_host):
    make_host("small")
    return {vm.name: vm for vm in Instance.objects.all()}


def issue(user, vm, kind="vnc"):
    return sync_to_async(tickets.issue)(user, vm, kind)


def ws(vm, ticket=None, kind="vnc"):
    return f"/ws/instances/{vm.pk}/{kind}/" + (f"?ticket={ticket}" if ticket is not None else "")


async def test_it_refuses_anonymous_without_a_ticket(vms):
    assert await close_code(await socket(ws(vms["web1"]))) == (Refusal.NOT_LOGGED_IN, "not-logged-in")


@pytest.mark.parametrize("kind", ["vnc", "serial"])
async def test_it_refuses_a_logged_in_user_without_a_ticket(vms, admin_user, kind):
    assert await close_code(await socket(ws(vms["web1"], kind=kind), admin_user)) == (Refusal.NO_TICKET, "no-ticket")
    assert await close_code(await socket(ws(vms["web1"], "", kind), admin_user)) == (Refusal.NO_TICKET, "no-ticket")


@pytest.mark.parametrize("ticket", ["made-up", "x" * 43, "x" * 5000, "%00", "a&ticket=b"])
async def test_it_refuses_a_ticket_it_never_issued(vms, admin_user, ticket):
    code, _ = await close_code(await socket(ws(vms["web1"], ticket), admin_user))
    assert code == Refusal.UNKNOWN_TICKET


async def test_it_refuses_a_replayed_ticket(vms, admin_user):
    ticket, _ = await issue(admin_user, vms["web1"])
    first, _ = await close_code(await socket(ws(vms["web1"], ticket), admin_user))
    assert first == Refusal.NO_DISPLAY  # the ticket was good: web1 (test driver) just has no VNC display
    assert await close_code(await socket(ws(vms["web1"], ticket), admin_user)) == (Refusal.USED, "used")


async def test_it_refuses_an_expired_ticket(vms, admin_user, monkeypatch):
    ticket, lifetime = await issue(admin_user, vms["web1"])
    now = tickets.time.time()
    monkeypatch.setattr(tickets.time, "time", lambda: now + lifetime + 1)
    assert await close_code(await socket(ws(vms["web1"], ticket), admin_user)) == (Refusal.EXPIRED, "expired")


async def test_it_refuses_another_users_ticket(vms, admin_user, member):
    ticket, _ = await issue(admin_user, vms["web1"])
    assert await close_code(await socket(ws(vms["web1"], ticket), member)) == (Refusal.OTHER_USER, "other-user")
    # Spent all the same: the owner cannot use it after that either.
    assert (await close_code(await socket(ws(vms["web1"], ticket), admin_user)))[0] == Refusal.USED


async def test_it_refuses_a_ticket_for_another_vm(vms, admin_user):
    ticket, _ = await issue(admin_user, vms["db1"])
    assert await close_code(await socket(ws(vms["web1"], ticket), admin_user)) == (Refusal.OTHER_VM, "other-vm")


async def test_it_refuses_a_ticket_for_another_kind(vms, admin_user):
    ticket, _ = await issue(admin_user, vms["web1"], "serial")
    assert await close_code(await socket(ws(vms["web1"], ticket), admin_user)) == (Refusal.OTHER_KIND, "other-kind")


async def test_it_refuses_the_ticket_of_a_disabled_user(vms, member):
    ticket, _ = await issue(member, vms["web1"])
    member.is_active = False
    await sync_to_async(member.save)()
    assert (await close_code(await socket(ws(vms["web1"], ticket))))[0] == Refusal.NOT_LOGGED_IN


async def test_it_accepts_a_ticket_without_a_session_for_scripts(vms, admin_user):
    """A script holding an API token has no session: the ticket it got with the token is its login."""
    ticket, _ = await issue(admin_user, vms["web1"])
    assert (await close_code(await socket(ws(vms["web1"], ticket))))[0] == Refusal.NO_DISPLAY


async def test_it_says_a_vm_that_is_not_running_is_not_running(vms, admin_user):
    ticket, _ = await issue(admin_user, vms["db1"])
    assert (await close_code(await socket(ws(vms["db1"], ticket), admin_user)))[0] == Refusal.NOT_RUNNING


async def test_it_closes_with_a_code_of_its_own_when_the_console_fails_unexpectedly(vms, admin_user, monkeypatch):
    from console import services

    def broken(instance):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "vnc_target", broken)
    ticket, _ = await issue(admin_user, vms["web1"])
    code = await close_code(await socket(ws(vms["web1"], ticket), admin_user))
    # daphne's autobahn refuses a close code outside 1000 and 3000-4999 (1011 raised there).
    assert code == (Refusal.INTERNAL, "internal") and 3000 <= code[0] <= 4999


async def test_it_refuses_another_origin_before_anything(vms, admin_user):
    ticket, _ = await issue(admin_user, vms["web1"])
    communicator = await socket(ws(vms["web1"], ticket), origin=b"http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected
    # The refused handshake did not spend the ticket.
    assert (await sync_to_async(tickets.redeem)(ticket)).instance_id == vms["web1"].pk
