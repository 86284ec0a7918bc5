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


def run_in(directory, command_list):
    """Run the lines as an admin would in `directory`, first saving each file a line reads (the XML shown)."""
    for command in command_list:
        if command.reads:
            (directory / command.argv[-1]).write_text(command.reads)
        subprocess.run(command.argv, check=True, capture_output=True, text=True, timeout=120, cwd=directory)


def test_it_shows_net_define_lines_that_make_the_same_network(lab, make_host, tmp_path):
    import random
    import uuid

    from lxml import etree

    from core.testing import ip_forward_kept
    from virt.connection import ConnectionSpec, open_connection
    from virt.networks import delete_network_if_present
    from networks import command_lines as network_lines
    from networks import services as network_services

    host, direct = make_host("lab", uri=lab["uri"]), open_connection(ConnectionSpec(key="direct", uri=lab["uri"]))
    tag, third = uuid.uuid4().hex[:6], random.randint(1, 120)
    ours, theirs = f"vd-test-{tag}", f"vd-hand-{tag}"

    def fields(name, net, bridge):
        return {"name": name, "mode": "nat", "bridge": bridge, "ipv4_address": f"10.215.{net}.1", "ipv4_prefix": 24,
                "dhcp_start": f"10.215.{net}.10", "dhcp_end": f"10.215.{net}.20", "autostart": True}

    with ip_forward_kept():
        try:
            network_services.create_network(host, **fields(ours, third, f"vda{tag}"))
            shown = network_lines.create(host, fields(theirs, third + 100, f"vdh{tag}"))
            assert [command.argv[3] for command in shown] == ["net-define", "net-start", "net-autostart"]
            run_in(tmp_path, shown)
            a, b = direct.networkLookupByName(ours), direct.networkLookupByName(theirs)
            assert (a.isActive(), a.autostart()) == (b.isActive(), b.autostart()) == (1, 1)

            def shape(network, name, net, bridge):
                root = etree.fromstring(network.XMLDesc(0).encode())
                for element in root.xpath("uuid | mac"):
                    root.remove(element)
                text = etree.tostring(root, encoding="unicode")
                return text.replace(name, "NAME").replace(f"10.215.{net}.", "NET.").replace(bridge, "BRIDGE")

            assert shape(a, ours, third, f"vda{tag}") == shape(b, theirs, third + 100, f"vdh{tag}")
        finally:
            for name in (ours, theirs):
                delete_network_if_present(direct, name)
            direct.close()


@pytest.mark.parametrize("kind", ["internal", "external"])
def test_it_shows_snapshot_create_as_that_takes_the_same_snapshot(api, lab, lab_host, lab_guests, kind):
    from instances import command_lines as instance_lines
    from instances.tests.jobs import run_queued

    by_virtdeck, by_hand = lab_guests.define(start=False), lab_guests.define(start=False)
    vm = refresh_one(lab_host, by_virtdeck.UUIDString())
    hand_vm = refresh_one(lab_host, by_hand.UUIDString())
    job = run_queued(api.post(f"/api/instances/{vm.pk}/snapshots/",
                              {"name": "s1", "kind": kind, "description": "before; $(id)"}, format="json"))
    assert job.status == "succeeded", job.error
    run(instance_lines.snapshot_create(hand_vm, "s1", kind, "before; $(id)"))

    def facts(dom):
        from lxml import etree

        root = etree.fromstring(dom.snapshotLookupByName("s1").getXMLDesc(0).encode())
        return {"names": dom.snapshotListNames(0), "state": root.findtext("state"),
                "description": root.findtext("description"),
                "disks": sorted((disk.get("name"), disk.get("snapshot")) for disk in root.xpath("disks/disk"))}

    assert facts(by_hand) == facts(by_virtdeck)
    assert facts(by_hand)["description"] == "before; $(id)"  # one word for the shell, kept as typed
