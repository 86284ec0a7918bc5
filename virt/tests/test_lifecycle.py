"""virt/lifecycle: which actions each state allows, and where changes apply. Pure."""
import pytest

from virt import lifecycle
from virt.errors import OperationInvalid
from virt.lifecycle import (
    BLOCKED, CRASHED, NO_STATE, PAUSED, PM_SUSPENDED, RUNNING, SHUT_OFF, SHUTTING_DOWN, affect, allowed_actions,
    check,
)


@pytest.mark.parametrize(("state", "expected"), [
    (RUNNING, ("shutdown", "reboot", "reset", "suspend", "save", "destroy", "autostart")),
    (BLOCKED, ("shutdown", "reboot", "reset", "suspend", "save", "destroy", "autostart")),
    (PAUSED, ("resume", "save", "destroy", "autostart")),
    (SHUTTING_DOWN, ("destroy", "autostart")),
    (CRASHED, ("destroy", "autostart")),
    (PM_SUSPENDED, ("destroy", "autostart")),
    (SHUT_OFF, ("start", "rename", "autostart", "delete")),
    (NO_STATE, ("autostart",)),
])
def test_it_allows_each_state_its_actions_in_button_order(state, expected):
    assert allowed_actions(state) == expected


def test_it_offers_restore_instead_of_start_when_a_saved_state_exists():
    actions = allowed_actions(SHUT_OFF, managed_save=True)

    assert actions == ("restore", "discard_save", "autostart", "delete")
    assert "start" not in actions and "rename" not in actions  # libvirt refuses to rename a saved VM


def test_it_offers_a_transient_vm_nothing_that_needs_a_definition():
    assert allowed_actions(RUNNING, persistent=False) == ("shutdown", "reboot", "reset", "suspend", "destroy")
    assert allowed_actions(PAUSED, persistent=False) == ("resume", "destroy")


def test_it_keeps_every_action_name_in_the_button_order():
    every = {a for s in (RUNNING, PAUSED, SHUT_OFF) for ms in (False, True)
             for a in allowed_actions(s, managed_save=ms)}
    assert every == set(lifecycle.ACTIONS)


def test_it_guards_actions_the_state_does_not_allow():
    check("start", SHUT_OFF)
    check("destroy", SHUTTING_DOWN)

    with pytest.raises(OperationInvalid, match="Cannot start a VM that is running"):
        check("start", RUNNING)
    with pytest.raises(OperationInvalid, match="Cannot rename a VM that is running"):
        check("rename", RUNNING)
    with pytest.raises(OperationInvalid, match="Cannot discard save a VM that is shut off"):
        check("discard_save", SHUT_OFF)
    with pytest.raises(OperationInvalid, match="no persistent definition"):
        check("save", RUNNING, persistent=False)


def test_it_refuses_an_unknown_action_as_a_programming_error():
    with pytest.raises(ValueError):
        check("explode", RUNNING)


@pytest.mark.parametrize(("active", "persistent", "expected"), [
    (True, True, {"live", "config"}),
    (True, False, {"live"}),
    (False, True, {"config"}),
])
def test_it_applies_changes_where_the_state_allows_by_default(active, persistent, expected):
    assert affect(active, persistent) == expected


def test_it_honours_an_explicit_choice_the_state_allows():
    assert affect(True, True, "live") == {"live"}
    assert affect(True, True, "config") == {"config"}
    assert affect(True, True, "both") == {"live", "config"}


@pytest.mark.parametrize(("active", "persistent", "wanted", "message"), [
    (False, True, "live", "not running"),
    (False, True, "both", "not running"),
    (True, False, "config", "transient"),
    (False, False, None, "neither running nor defined"),
])
def test_it_refuses_a_choice_the_state_cannot_take(active, persistent, wanted, message):
    with pytest.raises(OperationInvalid, match=message):
        affect(active, persistent, wanted)


def test_it_refuses_an_unknown_affect_value():
    with pytest.raises(ValueError):
        affect(True, True, "later")
