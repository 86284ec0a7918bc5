"""The command lines virtdeck shows (virt.commands) do what its actions do: a sample run against the lab.

For each sampled action, virtdeck acts on one object and the shown command, run as an admin would, acts on a
twin; both are then read through libvirt (and qemu-img, du) and must match.
"""
import subprocess

import pytest

from instances import lifecycle
from instances.inventory import refresh_one
from storage.tests.test_lab_storage import MIB, lab_pool, make_volume  # noqa: F401 (lab_pool: a fixture)
from virt import commands
from virt.tests.test_lab_storage import on_disk, qemu_img_info

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


def run(command_list):
    for command in command_list:
        subprocess.run(command.argv, check=True, capture_output=True, text=True, timeout=120)


def libvirt_facts(dom):
    state, _reason = dom.state()
    return {"state": state, "autostart": dom.autostart(), "saved": dom.hasManagedSaveImage(0)}


def test_it_shows_lifecycle_commands_that_do_what_the_buttons_do(lab, lab_host, lab_guests):
    by_virtdeck, by_hand = lab_guests.define(start=False), lab_guests.define(start=False)
    vm = refresh_one(lab_host, by_virtdeck.UUIDString())
    for action in ("start", "suspend", "resume", "autostart_on", "autostart_off", "destroy"):
        getattr(lifecycle, action)(vm)
        if action.startswith("autostart"):
            shown = commands.autostart(lab["uri"], by_hand.name(), action == "autostart_on")
        else:
            shown = commands.lifecycle(lab["uri"], by_hand.name(), action)
        run(shown)
        assert libvirt_facts(by_hand) == libvirt_facts(by_virtdeck), (action, [str(c) for c in shown])


def test_it_shows_rename_and_delete_commands_that_do_what_virtdeck_does(lab, lab_host, lab_guests):
    by_virtdeck, by_hand = lab_guests.define(start=False), lab_guests.define(start=False)
    vm = refresh_one(lab_host, by_virtdeck.UUIDString())
    new_virtdeck, new_hand = f"{by_virtdeck.name()}-renamed", f"{by_hand.name()}-renamed"
    from instances import edit

    edit.update(vm, {"name": new_virtdeck})
    run(commands.rename(lab["uri"], by_hand.name(), new_hand))
    conn = lab_guests.conn
    assert conn.lookupByName(new_virtdeck).UUIDString() == by_virtdeck.UUIDString()
    assert conn.lookupByName(new_hand).UUIDString() == by_hand.UUIDString()

    disks = {dom.UUIDString(): subprocess.run(["virsh", "-q", "-c", lab["uri"], "domblklist", dom.UUIDString()],
                                              check=True, capture_output=True, text=True).stdout.split()[1]
             for dom in (by_virtdeck, by_hand)}
    vm.refresh_from_db()
    lifecycle.delete(vm)  # the definition only: the command below names no volume either
    run(commands.delete(lab["uri"], new_hand))
    names = {dom.name() for dom in conn.listAllDomains()}
    assert new_virtdeck not in names and new_hand not in names
    assert all(subprocess.run(["test", "-e", path]).returncode == 0 for path in disks.values())  # disks kept


@pytest.mark.parametrize("volume_format, allocation", [
    ("raw", "thin"), ("raw", "thick"), ("qcow2", "thin"), ("qcow2", "metadata"), ("qcow2", "thick")])
def test_it_shows_vol_create_as_that_makes_the_same_volume(api, lab, lab_pool, tmp_path,  # noqa: F811
                                                           volume_format, allocation):
    made = make_volume(api, lab_pool, f"virtdeck.{volume_format}", volume_format, allocation, capacity=16 * MIB)
    run(commands.volume_create(lab["uri"], lab_pool.name, f"by-hand.{volume_format}", 16 * MIB, volume_format,
                               allocation))
    ours, theirs = tmp_path / made.name, tmp_path / f"by-hand.{volume_format}"
    assert {key: qemu_img_info(ours)[key] for key in ("format", "virtual-size")} == {
        key: qemu_img_info(theirs)[key] for key in ("format", "virtual-size")}
    # The same policy on disk: nothing, tables only, or all of it, within a MiB of each other.
    assert abs(on_disk(ours) - on_disk(theirs)) <= MIB, (on_disk(ours), on_disk(theirs))
