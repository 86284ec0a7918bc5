"""virt/domain against libvirt's test driver, through the pool as services call it; results read back
through libvirt directly. What the test driver lacks (device hot-plug, blockResize, jobs, external
snapshots) is tested on the lab in test_lab_domain.py."""
import uuid

import libvirt
import pytest

from core.testing import node_uri
from virt.connection import ConnectionSpec, Pool
from virt.domain import Domain, create_from_xml, define, define_new
from virt.errors import InvalidConfig, NotFound, OperationInvalid, Unsupported
from virt.jobinfo import job_from_stats
from virt.lifecycle import PAUSED, RUNNING, SHUT_OFF
from virt.xml.devices import DiskXML, GraphicsXML, InterfaceXML
from virt.xml.diff import next_boot_changes
from virt.xml.domain import DomainXML

WEB1 = "11111111-1111-4111-8111-111111111111"  # running
DB1 = "22222222-2222-4222-8222-222222222222"  # shut off
CACHE1 = "33333333-3333-4333-8333-333333333333"  # paused


@pytest.fixture
def on_host():
    """run(fn) calls fn(conn) on a private copy of the small node, as hosts.services.call does."""
    pool = Pool(call_timeout=10, connect_timeout=5)
    spec = ConnectionSpec(key="domain-tests", uri=node_uri("small"))
    yield lambda fn: pool.call(spec, fn)
    pool.close_all()


def on(uuid_, method, *args, **kwargs):
    """fn(conn) calling Domain.lookup(conn, uuid_).method(*args, **kwargs)."""
    return lambda conn: getattr(Domain.lookup(conn, uuid_), method)(*args, **kwargs)


def libvirt_state(run, uuid_):
    return run(lambda conn: conn.lookupByUUIDString(uuid_).state()[0])


def test_it_looks_a_domain_up_by_uuid_or_name(on_host):
    assert on_host(lambda c: Domain.lookup(c, WEB1.upper()).name) == "web1"
    assert on_host(lambda c: Domain.lookup(c, "db1").uuid) == DB1
    with pytest.raises(NotFound):
        on_host(lambda c: Domain.lookup(c, "no-such-vm"))
    with pytest.raises(NotFound):
        on_host(lambda c: Domain.lookup(c, str(uuid.uuid4())))


def test_it_names_states_and_their_actions(on_host):
    assert [on_host(on(u, "state")) for u in (WEB1, DB1, CACHE1)] == [RUNNING, SHUT_OFF, PAUSED]
    assert on_host(on(WEB1, "allowed_actions")) == (
        "shutdown", "reboot", "reset", "suspend", "save", "destroy", "autostart")
    assert on_host(on(DB1, "allowed_actions")) == ("start", "rename", "autostart", "delete")
    assert on_host(on(CACHE1, "allowed_actions")) == ("resume", "save", "destroy", "autostart")


def test_it_runs_the_lifecycle(on_host):
    on_host(on(WEB1, "suspend"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_PAUSED
    on_host(on(WEB1, "resume"))
    on_host(on(WEB1, "reboot"))
    on_host(on(WEB1, "reset"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_RUNNING
    on_host(on(WEB1, "shutdown"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_SHUTOFF
    on_host(on(WEB1, "start"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_RUNNING
    on_host(on(WEB1, "destroy", graceful=True))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_SHUTOFF


def test_it_passes_libvirts_refusal_of_a_wrong_state(on_host):
    with pytest.raises(OperationInvalid, match="not running"):
        on_host(on(DB1, "destroy"))


def test_it_saves_and_restores_the_memory_state(on_host):
    on_host(on(WEB1, "managed_save"))

    assert on_host(lambda c: c.lookupByUUIDString(WEB1).hasManagedSaveImage(0)) == 1
    assert on_host(on(WEB1, "state")) == SHUT_OFF and on_host(on(WEB1, "has_managed_save"))
    assert on_host(on(WEB1, "allowed_actions")) == ("restore", "discard_save", "autostart", "delete")
    with pytest.raises(OperationInvalid, match="saved state can't be renamed|Cannot rename"):
        on_host(on(WEB1, "rename", "web1-new"))

    on_host(on(WEB1, "restore"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_RUNNING
    assert on_host(lambda c: c.lookupByUUIDString(WEB1).hasManagedSaveImage(0)) == 0


def test_it_discards_a_saved_state_and_refuses_to_restore_without_one(on_host):
    on_host(on(WEB1, "managed_save"))
    on_host(on(WEB1, "managed_save_remove"))

    assert on_host(lambda c: c.lookupByUUIDString(WEB1).hasManagedSaveImage(0)) == 0
    with pytest.raises(OperationInvalid, match="no saved state"):
        on_host(on(WEB1, "restore"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_SHUTOFF


def test_it_switches_autostart(on_host):
    on_host(on(DB1, "set_autostart", True))
    assert on_host(lambda c: c.lookupByUUIDString(DB1).autostart()) == 1 and on_host(on(DB1, "autostart"))
    on_host(on(DB1, "set_autostart", False))
    assert on_host(lambda c: c.lookupByUUIDString(DB1).autostart()) == 0


def test_it_renames_only_a_shut_off_vm(on_host):
    with pytest.raises(OperationInvalid, match="Cannot rename a VM that is running"):
        on_host(on(WEB1, "rename", "web1-new"))

    assert on_host(on(DB1, "rename", "db1-new")) == "db1-new"
    assert on_host(lambda c: c.lookupByName("db1-new").UUIDString()) == DB1


def test_it_undefines_with_snapshot_metadata_where_the_driver_refuses_the_nvram_flag(on_host):
    on_host(lambda c: Domain.lookup(c, DB1).snapshots.create_internal("before"))

    on_host(on(DB1, "undefine"))  # the test driver refuses NVRAM and CHECKPOINTS: retried without them

    with pytest.raises(NotFound):
        on_host(lambda c: c.lookupByUUIDString(DB1))


def test_it_keeps_a_running_vm_running_as_transient_when_undefined(on_host):
    on_host(on(WEB1, "undefine", keep_nvram=True))

    assert on_host(lambda c: c.lookupByUUIDString(WEB1).isPersistent()) == 0
    assert on_host(on(WEB1, "allowed_actions")) == ("shutdown", "reboot", "reset", "suspend", "destroy")


def small_domain(name):
    domain = DomainXML()
    domain.type, domain.name, domain.uuid = "test", name, str(uuid.uuid4())
    domain.memory_kib, domain.vcpus, domain.os_type = 262144, 1, "hvm"
    domain.disks.add(DiskXML.file_disk(f"/srv/vm/{name}.qcow2", "vda"))
    domain.graphics.add(GraphicsXML.vnc(passwd="s3cret"))
    return domain


def test_it_defines_with_validation_and_says_what_libvirt_objects_to(on_host):
    bad = small_domain("bad").to_xml().replace("<devices>", "<bogus/><devices>")
    with pytest.raises(InvalidConfig, match="(?s)failed to validate against schema.*bogus"):
        on_host(lambda c: define(c, bad))
    with pytest.raises(NotFound):
        on_host(lambda c: c.lookupByName("bad"))

    on_host(lambda c: define(c, bad, validate=False))  # libvirt drops what it does not know
    assert "bogus" not in on_host(lambda c: c.lookupByName("bad").XMLDesc(0))


def test_it_defines_from_text_or_an_xml_object(on_host):
    assert on_host(lambda c: define(c, small_domain("built")).name) == "built"
    assert on_host(lambda c: define(c, small_domain("typed").to_xml()).uuid)
    assert on_host(lambda c: c.lookupByName("typed").isPersistent()) == 1


def test_it_defines_a_new_domain_only_when_neither_its_name_nor_its_uuid_exists(on_host):
    before = on_host(lambda c: c.lookupByUUIDString(WEB1).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    same_uuid = small_domain("other")
    same_uuid.uuid = WEB1  # defineXML alone would redefine web1 under the new name's definition
    for domain in (small_domain("web1"), same_uuid):
        with pytest.raises(InvalidConfig, match=f"A domain named 'web1' with UUID {WEB1} already exists"):
            on_host(lambda c, d=domain: define_new(c, d))
    assert on_host(lambda c: c.lookupByUUIDString(WEB1).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == before
    with pytest.raises(NotFound):
        on_host(lambda c: c.lookupByName("other"))

    assert on_host(lambda c: define_new(c, small_domain("fresh")).name) == "fresh"


def test_it_refuses_entities_before_libvirt_sees_them(on_host):
    hostile = "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain type='test'><name>&x;</name></domain>"
    with pytest.raises(InvalidConfig, match="DOCTYPE"):
        on_host(lambda c: define(c, hostile))
    with pytest.raises(InvalidConfig, match="DOCTYPE"):
        on_host(lambda c: Domain.lookup(c, DB1).attach_device(hostile, affect="config"))


def test_it_starts_a_transient_domain(on_host):
    on_host(lambda c: create_from_xml(c, small_domain("passing")))

    dom_state = on_host(lambda c: (c.lookupByName("passing").isPersistent(), c.lookupByName("passing").state()[0]))
    assert dom_state == (0, libvirt.VIR_DOMAIN_RUNNING)


def test_it_gives_the_live_inactive_and_secure_xml(on_host):
    on_host(lambda c: define(c, small_domain("xmlvm")))

    assert 'passwd="s3cret"' not in on_host(on("xmlvm", "xml_desc")).replace("'", '"')
    assert "s3cret" in on_host(on("xmlvm", "xml_desc", inactive=True, secure=True))


def test_it_chooses_where_a_device_change_goes_before_asking_libvirt(on_host):
    nic = InterfaceXML.build("network", "default")
    with pytest.raises(OperationInvalid, match="not running"):
        on_host(on(DB1, "attach_device", nic, affect="live"))
    # The test driver has no device hot-plug at all: that is not reported as a live refusal.
    with pytest.raises(Unsupported, match="not supported by the connection driver"):
        on_host(on(WEB1, "attach_device", nic))


def test_it_changes_vcpus_live_and_in_the_configuration(on_host):
    assert on_host(on(WEB1, "vcpus")) == {"live": {"current": 2, "maximum": 2}, "config": {"current": 2, "maximum": 2}}
    assert on_host(on(DB1, "vcpus"))["live"] is None

    on_host(on(WEB1, "set_max_vcpus", 4))
    on_host(on(WEB1, "set_vcpus", 3, affect="config"))
    on_host(on(WEB1, "set_vcpus", 1))

    assert on_host(lambda c: c.lookupByUUIDString(WEB1).vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)) == 1
    assert on_host(on(WEB1, "vcpus")) == {"live": {"current": 1, "maximum": 2}, "config": {"current": 1, "maximum": 4}}
    live, saved = on_host(lambda c: (Domain.lookup(c, WEB1).xml_desc(), Domain.lookup(c, WEB1).xml_desc(inactive=True)))
    assert next_boot_changes(live, saved) == [{"part": "vcpu", "change": "changed"}]


@pytest.mark.parametrize("count", [0, -1, 1.5, "2", True])
def test_it_refuses_a_vcpu_count_that_is_not_a_positive_integer(on_host, count):
    with pytest.raises(InvalidConfig, match="positive whole number"):
        on_host(on(WEB1, "set_vcpus", count))


def test_it_changes_memory_and_its_maximum(on_host):
    on_host(on(WEB1, "set_max_memory", 1048576))
    on_host(on(WEB1, "set_memory", 262144))

    assert on_host(on(WEB1, "memory")) == {"live": {"current_kib": 262144, "maximum_kib": 524288},
                                           "config": {"current_kib": 262144, "maximum_kib": 1048576}}
    assert on_host(lambda c: c.lookupByUUIDString(WEB1).info()[2]) == 262144


def test_it_resizes_a_running_vms_disk_live_and_never_shrinks_it(on_host):
    # Shut off, the disk's volume is resized instead (instances/tests/test_lab_devices.py): db1 has none.
    with pytest.raises(NotFound, match="no disk vda"):
        on_host(on(DB1, "resize_disk", "vda", 1 << 30))
    # The test driver reports a 1 TiB vda: 1 GiB is smaller, refused before blockResize is called.
    with pytest.raises(InvalidConfig, match="would lose data"):
        on_host(on(WEB1, "resize_disk", "vda", 1 << 30))


def test_it_reports_that_the_test_driver_has_no_jobs(on_host):
    with pytest.raises(Unsupported):
        on_host(on(WEB1, "job_info"))


def test_it_describes_a_job_from_libvirts_stats():
    job = job_from_stats({"type": libvirt.VIR_DOMAIN_JOB_UNBOUNDED, "operation": libvirt.VIR_DOMAIN_JOB_OPERATION_SAVE,
                          "time_elapsed": 120, "data_total": 300, "data_processed": 100, "data_remaining": 200,
                          "memory_dirty_rate": 7})

    assert job["type"] == "unbounded" and job["active"] and job["operation"] == "save"
    assert (job["elapsed_ms"], job["data_total"], job["data_processed"], job["data_remaining"]) == (120, 300, 100, 200)
    assert job["stats"]["memory_dirty_rate"] == 7
    assert job_from_stats({"type": 0}) | {"stats": None} == {
        "type": "none", "active": False, "operation": "unknown", "elapsed_ms": None, "remaining_ms": None,
        "data_total": None, "data_processed": None, "data_remaining": None, "stats": None}


def test_it_refuses_an_unknown_shutdown_or_reboot_mode(on_host):
    with pytest.raises(InvalidConfig, match="Unknown mode 'pull-the-plug'; one of: acpi, agent"):
        on_host(on(WEB1, "shutdown", mode="pull-the-plug"))
    with pytest.raises(InvalidConfig, match="Unknown mode"):
        on_host(on(WEB1, "reboot", mode="hard"))
    assert libvirt_state(on_host, WEB1) == libvirt.VIR_DOMAIN_RUNNING


def test_it_guards_an_action_against_the_state_libvirt_reports_now(on_host):
    on_host(on(DB1, "check", "start"))
    on_host(lambda c: c.lookupByUUIDString(DB1).create())  # started behind virtdeck's back

    with pytest.raises(OperationInvalid, match="Cannot start a VM that is running"):
        on_host(on(DB1, "check", "start"))
