"""The osinfo-db reader against the machine's osinfo-db package and small databases written here."""
from virt.osinfo import GENERIC, GiB, OSDatabase, database


def test_it_reads_the_machines_osinfo_db():
    db = database()
    assert len(db) > 500
    debian = db.get("debian11")
    assert (debian.name, debian.family, debian.distro) == ("Debian 11", "linux", "debian")
    assert debian.recommended_ram == GiB and debian.recommended_storage == 20 * GiB
    # virtio drivers come from an ancestor (Debian 6 declares them): inherited along derives-from.
    assert (debian.disk_bus, debian.nic_model, debian.machine) == ("virtio", "virtio", "q35")


def test_it_picks_devices_an_os_has_drivers_for():
    db = database()
    xp, win10, win11 = db.get("winxp"), db.get("win10"), db.get("win11")
    assert (xp.machine, xp.disk_bus, xp.nic_model) == ("pc", "ide", "e1000")
    assert (win10.machine, win10.disk_bus, win10.nic_model) == ("q35", "sata", "e1000e")
    assert win10.recommended_ram >= win10.minimum_ram == 2 * GiB  # own minimum beats an ancestor's advice
    assert win11.efi and not win11.bios  # Windows 11 boots with UEFI only


def test_it_answers_unknown_and_generic():
    db = database()
    assert db.get("no-such-os") is None
    assert db.get("generic") is GENERIC and GENERIC.disk_bus == "virtio"


def test_it_inherits_through_clones_and_survives_broken_files(tmp_path):
    vendor = tmp_path / "os" / "example.org"
    vendor.mkdir(parents=True)
    (vendor / "base.xml").write_text("""<libosinfo><os id="http://example.org/base/1">
      <short-id>base1</short-id><name>Base 1</name>
      <resources arch="all"><minimum><ram>536870912</ram></minimum><recommended><ram>1073741824</ram>
      <n-cpus>2</n-cpus></recommended></resources>
      <devices><device id="http://pcisig.com/pci/1af4/1001"/></devices>
      <firmware arch="x86_64" type="efi"/></os></libosinfo>""")
    (vendor / "clone.xml").write_text("""<libosinfo><os id="http://example.org/clone/1">
      <short-id>clone1</short-id><name>Clone 1</name><clones id="http://example.org/base/1"/></os></libosinfo>""")
    (vendor / "broken.xml").write_text("<libosinfo><os id='x'>")
    (vendor / "entity.xml").write_text("""<!DOCTYPE l [<!ENTITY e SYSTEM "file:///etc/passwd">]>
      <libosinfo><os id="http://example.org/e/1"><short-id>ent</short-id><name>&e;</name></os></libosinfo>""")
    db = OSDatabase(roots=[tmp_path])
    clone = db.get("clone1")
    assert (clone.recommended_ram, clone.recommended_cpus, clone.disk_bus, clone.efi) == (GiB, 2, "virtio", True)
    assert clone.nic_model == "e1000"  # no virtio-net declared anywhere in its lineage
    assert db.get("ent") is None or "root:" not in db.get("ent").name  # entities are never expanded
