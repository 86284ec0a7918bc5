"""/api/instances/{id}/disks|nics|config/ on libvirt's test driver (core/testing/nodes/hardware.xml).

Results are read back with plain libvirt calls on the host's own connection (a test:///file node is a private
copy per connection, so that is the copy the app changed). The test driver has no device hot-plug, update or
volume resize: what needs them is tested on the lab (test_lab_devices.py); here, that the input is checked
before libvirt is asked and that a refused attach leaves nothing behind.
"""
import libvirt
import pytest
from lxml import etree

from hosts.connection import call
from instances.models import Instance

pytestmark = pytest.mark.django_db
SECURE_INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


@pytest.fixture
def host(make_host):
    return make_host("hardware")


@pytest.fixture
def db1(host):
    """Shut off: changes go to its configuration."""
    return Instance.objects.get(host=host, name="db1")


@pytest.fixture
def web1(host):
    """Running."""
    return Instance.objects.get(host=host, name="web1")


def saved(vm, flags=SECURE_INACTIVE):
    """The VM's definition read straight from libvirt, as an lxml tree."""
    return etree.fromstring(call(vm.host, lambda conn: conn.lookupByName(vm.name).XMLDesc(flags)))


def url(vm, *parts):
    return "/".join([f"/api/instances/{vm.pk}", *parts]) + "/"


def volumes(vm):
    return sorted(call(vm.host, lambda conn: conn.storagePoolLookupByName("images").listVolumes()))


def test_it_lists_disks_and_nics_from_the_host(api, web1):
    disks = api.get(url(web1, "disks")).json()["disks"]
    nics = api.get(url(web1, "nics")).json()["nics"]

    assert [(d["target"], d["device"], d["bus"]) for d in disks] == [
        ("vda", "disk", "virtio"), ("sdc", "cdrom", "sata")]
    assert disks[0]["source"] == "/var/lib/virtdeck-test/hw/web1.qcow2" and disks[1]["source"] is None
    assert nics == [{"mac": "52:54:00:6e:00:01", "type": "network", "source": "lan", "model": "virtio",
                     "link_up": True}]


def test_it_shows_the_configuration_without_the_vnc_password(api, web1):
    body = api.get(url(web1, "config")).json()

    assert (body["vcpus"], body["max_vcpus"], body["memory_mib"], body["boot"]) == (2, 2, 512, ["hd"])
    assert body["vnc"] == {"listen": "127.0.0.1", "port": None, "password_set": True}
    assert body["host"] == {"cpus": 4, "memory_mib": 8192, "networks": ["lan"], "pools": ["images"]} and body["active"]
    assert "web1pass" not in str(body) and "passwd" not in str(body)


def test_it_changes_vcpus_and_memory_of_a_shut_off_vm_for_its_next_boot(api, db1):
    response = api.patch(url(db1, "config"), {"max_vcpus": 4, "vcpus": 3, "max_memory_mib": 2048,
                                              "memory_mib": 1536}, format="json")

    assert response.status_code == 200, response.content
    assert {(c["field"], c["live"]) for c in response.json()["changes"]} == {
        ("vcpus", False), ("max_vcpus", False), ("memory_mib", False), ("max_memory_mib", False)}
    vcpu = saved(db1).find("vcpu")
    assert (vcpu.text, vcpu.get("current")) == ("4", "3")
    root = saved(db1)
    assert root.findtext("memory") == str(2048 * 1024) and root.findtext("currentMemory") == str(1536 * 1024)
    db1.refresh_from_db()
    assert db1.max_memory_kib == 2048 * 1024  # the row was refreshed from the host


def test_it_changes_a_running_vms_vcpus_live_within_its_maximum(api, web1):
    response = api.patch(url(web1, "config"), {"vcpus": 1}, format="json")

    assert response.json()["changes"] == [{"field": "vcpus", "live": True}]
    assert call(web1.host, lambda conn: conn.lookupByName("web1").vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE)) == 1
    web1.refresh_from_db()
    assert web1.vcpus == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"vcpus": 5, "max_vcpus": 5}, "vcpus"),  # the host has 4 CPUs
    ({"max_vcpus": 8}, "max_vcpus"),
    ({"vcpus": 0}, "vcpus"),
    ({"vcpus": -1}, "vcpus"),
    ({"vcpus": "two"}, "vcpus"),
    ({"vcpus": 10**30}, "vcpus"),
    ({"vcpus": 5}, "vcpus"),  # the maximum would grow with it, but the host has 4 CPUs
    ({"vcpus": 2, "max_vcpus": 1}, "vcpus"),  # over the maximum given with it
    ({"memory_mib": 9000, "max_memory_mib": 9000}, "memory_mib"),  # the host has 8192 MiB
    ({"max_memory_mib": -5}, "max_memory_mib"),
    ({"memory_mib": 9000}, "memory_mib"),  # the maximum would grow with it, but the host has 8192 MiB
    ({"memory_mib": 2048, "max_memory_mib": 1024}, "memory_mib"),  # over the maximum given with it
    ({"cpu_mode": "host-magic"}, "cpu_mode"),
    ({"cpu_mode": "custom"}, "cpu_model"),
    ({"cpu_mode": "custom", "cpu_model": "no-such-cpu"}, "cpu_model"),
    ({"cpu_mode": "custom", "cpu_model": "../../etc"}, "cpu_model"),
    ({"cpu_mode": "host-model", "cpu_model": "qemu64"}, "cpu_model"),
    ({"boot": []}, "boot"),
    ({"boot": ["hd", "hd"]}, "boot"),
    ({"boot": ["usb"]}, "boot"),
    ({"boot": "hd"}, "boot"),
    ({"vnc_listen": "example.org"}, "vnc_listen"),
    ({"vnc_listen": "127.0.0.1; rm -rf /"}, "vnc_listen"),
    ({"vnc_password": "much-too-long"}, "vnc_password"),
    ({"vnc_password": ""}, "vnc_password"),
    ({"vnc_password": "abc", "vnc_password_clear": True}, "vnc_password_clear"),
    ({"vcpus": 1, "cpu_mode": "custom", "cpu_model": "no-such-cpu"}, "cpu_model"),  # nothing applied first
    ({"max_vcpus": 2, "vnc_listen": "fe80::1%eth0"}, "vnc_listen"),
])
def test_it_refuses_bad_configuration_values_naming_the_field_and_changes_nothing(api, db1, body, field):
    before = etree.tostring(saved(db1))

    response = api.patch(url(db1, "config"), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert etree.tostring(saved(db1)) == before


def test_it_sets_cpu_mode_and_boot_order_for_the_next_boot(api, db1):
    response = api.patch(url(db1, "config"), {"cpu_mode": "custom", "cpu_model": "qemu64", "boot": ["cdrom", "hd"]},
                         format="json")

    assert response.status_code == 200, response.content
    assert all(not change["live"] for change in response.json()["changes"])
    root = saved(db1)
    assert (root.find("cpu").get("mode"), root.findtext("cpu/model")) == ("custom", "qemu64")
    assert root.xpath("os/boot/@dev") == ["cdrom", "hd"]
    assert root.xpath("devices/disk/boot") == []  # per-device orders go: libvirt refuses both kinds

    api.patch(url(db1, "config"), {"cpu_mode": "host-model"}, format="json")
    assert saved(db1).find("cpu").get("mode") == "host-model" and saved(db1).find("cpu/model") is None


def test_it_sets_the_vnc_password_without_ever_returning_it(api, db1):
    response = api.patch(url(db1, "config"), {"vnc_password": "n3wpass", "vnc_listen": "0.0.0.0"}, format="json")

    assert response.status_code == 200, response.content
    assert "n3wpass" not in response.content.decode()
    graphics = saved(db1).find("devices/graphics")
    assert graphics.get("passwd") == "n3wpass" and graphics.get("listen") == "0.0.0.0"
    assert response.json()["config"]["vnc"]["password_set"] is True
    assert "n3wpass" not in api.get(url(db1, "config")).content.decode()

    api.patch(url(db1, "config"), {"vnc_password_clear": True}, format="json")
    assert saved(db1).find("devices/graphics").get("passwd") is None
    assert api.get(url(db1, "config")).json()["vnc"]["password_set"] is False


def test_it_keeps_the_vnc_password_when_other_settings_change(api, db1):
    api.patch(url(db1, "config"), {"boot": ["network"], "vnc_listen": "::1"}, format="json")

    assert saved(db1).find("devices/graphics").get("passwd") == "db1pass"


def test_it_inserts_and_ejects_a_cdrom_of_a_shut_off_vm(api, db1):
    response = api.post(url(db1, "disks", "sdc", "media"), {"pool": "images", "volume": "debian-12.iso"},
                        format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "media", "live": False}]
    assert saved(db1).xpath("devices/disk[target/@dev='sdc']/source/@file") == [
        "/var/lib/virtdeck-test/hw/debian-12.iso"]

    assert api.delete(url(db1, "disks", "sdc", "media")).status_code == 200
    assert saved(db1).xpath("devices/disk[target/@dev='sdc']/source") == []


@pytest.mark.parametrize(("target", "body", "field"), [
    ("sdc", {"path": "/etc/shadow"}, "path"),
    ("sdc", {"path": "/var/lib/virtdeck-test/hw/../../../../etc/shadow"}, "path"),
    ("sdc", {"path": "relative.iso"}, "path"),
    ("sdc", {"pool": "images", "volume": "nope.iso"}, "volume"),
    ("sdc", {"pool": "nope", "volume": "debian-12.iso"}, "pool"),
    ("vda", {"pool": "images", "volume": "debian-12.iso"}, "target"),
])
def test_it_refuses_bad_media_naming_the_field(api, db1, target, body, field):
    before = etree.tostring(saved(db1))

    response = api.post(url(db1, "disks", target, "media"), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert etree.tostring(saved(db1)) == before


def test_it_answers_404_for_a_disk_or_nic_the_vm_does_not_have(api, db1):
    assert api.delete(url(db1, "disks", "vdz")).status_code == 404
    assert api.post(url(db1, "disks", "vdz", "resize"), {"size_mib": 10}, format="json").status_code == 404
    assert api.delete(url(db1, "nics", "52:54:00:00:00:99")).status_code == 404
    assert api.get("/api/instances/999999/disks/").status_code == 404


def test_it_changes_a_disks_bus_and_cache_for_the_next_boot(api, db1):
    response = api.patch(url(db1, "disks", "vda"), {"bus": "sata", "cache": "none"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "bus", "live": False}, {"field": "cache", "live": False}]
    disk = saved(db1).xpath("devices/disk[target/@dev='vda']")[0]
    assert disk.find("target").get("bus") == "sata" and disk.find("driver").get("cache") == "none"

    api.patch(url(db1, "disks", "vda"), {"cache": "default"}, format="json")
    assert saved(db1).xpath("devices/disk[target/@dev='vda']/driver/@cache") == []


def test_it_removes_a_new_volume_again_when_the_attach_fails(api, db1):
    before = volumes(db1)

    response = api.post(url(db1, "disks"), {"pool": "images", "name": "extra.qcow2", "size_mib": 64}, format="json")

    # The test driver cannot attach devices at all: the volume made for it must be gone again.
    assert response.status_code == 400 and "not supported" in response.json()["detail"]
    assert volumes(db1) == before
    assert len(saved(db1).findall("devices/disk")) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"pool": "images", "name": "../escape.qcow2", "size_mib": 64}, "name"),
    ({"pool": "images", "name": "a/b.qcow2", "size_mib": 64}, "name"),
    ({"pool": "images", "name": "-rf", "size_mib": 64}, "name"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": -1}, "size_mib"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 0}, "size_mib"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 2**60}, "size_mib"),
    ({"pool": "images", "name": "x.qcow2"}, "size_mib"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "format": "vmdk"}, "format"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "bus": "floppy"}, "bus"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "cache": "fast"}, "cache"),
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "target": "vda"}, "target"),  # taken
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "target": "sdb"}, "target"),  # virtio is vd*
    ({"pool": "images", "name": "x.qcow2", "size_mib": 64, "target": "../x"}, "target"),
    ({"pool": "nowhere", "name": "x.qcow2", "size_mib": 64}, "pool"),
    ({"pool": "images", "name": "spare.raw", "size_mib": 64}, "name"),  # exists: never overwritten or removed
    ({"pool": "images", "volume": "missing.raw"}, "volume"),
    ({"path": "/etc/passwd"}, "path"),
])
def test_it_refuses_a_bad_disk_naming_the_field_and_creates_nothing(api, db1, body, field):
    before, disks_before = volumes(db1), etree.tostring(saved(db1))

    response = api.post(url(db1, "disks"), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert volumes(db1) == before and etree.tostring(saved(db1)) == disks_before


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "network", "source": "nope"}, "source"),
    ({"type": "bridge", "source": "br0; reboot"}, "source"),
    ({"type": "direct", "source": "../eth0"}, "source"),
    ({"type": "tap", "source": "x"}, "type"),
    ({"type": "network", "source": "lan", "model": "ne2k"}, "model"),
    ({"type": "network", "source": "lan", "mac": "52:54:00:zz:00:01"}, "mac"),
    ({"type": "network", "source": "lan", "mac": "01:00:5e:00:00:01"}, "mac"),  # multicast
    ({"type": "network", "source": "lan", "mac": "00:00:00:00:00:00"}, "mac"),
    ({"type": "network", "source": "lan", "mac": "52:54:00:6e:00:02"}, "mac"),  # already db1's
])
def test_it_refuses_a_bad_nic_naming_the_field(api, db1, body, field):
    before = etree.tostring(saved(db1))

    response = api.post(url(db1, "nics"), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert etree.tostring(saved(db1)) == before


def test_it_changes_a_nics_link_and_model_of_a_shut_off_vm(api, db1):
    response = api.patch(url(db1, "nics", "52:54:00:6E:00:02"), {"link_up": False, "model": "e1000"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changes"] == [{"field": "link_up", "live": False}, {"field": "model", "live": False}]
    nic = saved(db1).find("devices/interface")
    assert nic.find("link").get("state") == "down" and nic.find("model").get("type") == "e1000"
    assert api.get(url(db1, "nics")).json()["nics"][0]["link_up"] is False


def test_it_moves_a_nic_to_a_bridge(api, db1):
    response = api.patch(url(db1, "nics", "52:54:00:6e:00:02"), {"type": "bridge", "source": "br0"}, format="json")

    assert response.status_code == 200, response.content
    nic = saved(db1).find("devices/interface")
    assert nic.get("type") == "bridge" and nic.find("source").attrib == {"bridge": "br0"}


def test_it_refuses_anonymous_callers(client, db1):
    for path in (url(db1, "disks"), url(db1, "nics"), url(db1, "config")):
        assert client.get(path).status_code == 401
    assert client.patch(url(db1, "config"), {"vcpus": 2}, content_type="application/json").status_code == 401


HOSTILE_BODIES = ["{not json", "", "[]", "null", "42", '"text"', '{"pool": ["images"], "name": {"a": 1}}',
                  '{"pool": "ima\\u0000ges", "volume": "x"}', '{"pool": "\\ud800", "volume": "x"}',
                  '{"source": "lan\\u0000", "type": "network"}', '{"boot": ["hd", ["cdrom"]]}',
                  '{"vcpus": 1e400}', '{"size_mib": "1; rm -rf /"}', '{"mac": "' + "a" * 10000 + '"}',
                  '{"vnc_password": "\\u0000abc"}', '{"vnc_listen": {"address": "0.0.0.0"}}']
MUTATIONS = [("post", ("disks",)), ("patch", ("disks", "vda")), ("post", ("disks", "vda", "resize")),
             ("post", ("disks", "sdc", "media")), ("post", ("nics",)), ("patch", ("nics", "52:54:00:6e:00:02")),
             ("patch", ("config",))]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
@pytest.mark.parametrize(("method", "parts"), MUTATIONS, ids=["/".join(parts) for _, parts in MUTATIONS])
def test_it_answers_hostile_bodies_with_a_400_and_changes_nothing(api, db1, method, parts, body):
    before, volumes_before = etree.tostring(saved(db1)), volumes(db1)

    response = getattr(api, method)(url(db1, *parts), body, content_type="application/json")

    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert etree.tostring(saved(db1)) == before and volumes(db1) == volumes_before


@pytest.mark.parametrize("device", ["..", "vda%00", "%2e%2e%2fetc", "a" * 300, "52:54:00:6e:00:02%0a"])
def test_it_answers_404_for_odd_device_names_in_the_url(api, db1, device):
    assert api.delete(f"/api/instances/{db1.pk}/disks/{device}/").status_code == 404
    assert api.delete(f"/api/instances/{db1.pk}/nics/{device}/").status_code == 404
