"""Minimal TCG guests for lab tests (no Django).

make_disk() creates an empty qcow2 disk; domain_xml() builds a 1 vCPU type='qemu' (TCG)
domain with VNC on 127.0.0.1 and no NIC. SeaBIOS finds nothing to boot and keeps running:
a real QEMU for lifecycle, console, snapshot and migration tests.

By hand: .venv/bin/python lab/guest.py NAME [URI] [DIR]  (lab/down removes it)
"""
import os
import subprocess
import sys

from lxml import etree

# lab/down destroys and undefines the domains that carry this metadata element.
LAB_NS = "https://virtdeck.invalid/lab"


def make_disk(directory, name, size="64M"):
    """Create DIRECTORY/NAME.qcow2 (empty, thin) and return its absolute path."""
    path = os.path.abspath(os.path.join(directory, f"{name}.qcow2"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)], check=True)
    return path


def make_dirty_memory_disk(directory, name):
    """Create DIRECTORY/NAME.raw: a 1 MiB raw disk booting lab/dirty_memory.S (keeps writing 32 MiB of RAM)."""
    import tempfile

    path = os.path.abspath(os.path.join(directory, f"{name}.raw"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dirty_memory.S")
    with tempfile.TemporaryDirectory() as build:
        obj, binary = os.path.join(build, "boot.o"), os.path.join(build, "boot.bin")
        subprocess.run(["as", "--32", "-o", obj, source], check=True)
        subprocess.run(["ld", "-m", "elf_i386", "-Ttext", "0x7c00", "--oformat", "binary", "-o", binary, obj],
                       check=True)
        with open(binary, "rb") as sector:
            boot = sector.read()
    if len(boot) != 512 or boot[510:] != b"\x55\xaa":
        raise RuntimeError(f"{source} did not assemble to a 512-byte boot sector")
    with open(path, "wb") as disk:
        disk.write(boot)
        disk.truncate(1024 * 1024)
    return path


def _sub(parent, tag, text=None, **attrs):
    el = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def domain_xml(name, disk_path, memory_mib=256, network=None, disk_format="qcow2", vnc_listen="127.0.0.1"):
    """Domain XML for a TCG guest. network: a libvirt network name to add one virtio NIC."""
    dom = etree.Element("domain", type="qemu")
    _sub(dom, "name", name)
    meta = _sub(dom, "metadata")
    etree.SubElement(meta, f"{{{LAB_NS}}}guest", nsmap={"lab": LAB_NS})
    _sub(dom, "memory", memory_mib, unit="MiB")
    _sub(dom, "currentMemory", memory_mib, unit="MiB")
    _sub(dom, "vcpu", 1)
    os_ = _sub(dom, "os")
    _sub(os_, "type", "hvm", arch="x86_64", machine="pc")
    _sub(os_, "boot", dev="hd")
    # ACPI: without it QEMU cannot hot-plug PCI devices (disks, NICs) into the running guest.
    features = _sub(dom, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")
    dev = _sub(dom, "devices")
    disk = _sub(dev, "disk", type="file", device="disk")
    _sub(disk, "driver", name="qemu", type=disk_format)
    _sub(disk, "source", file=os.path.abspath(disk_path))
    _sub(disk, "target", dev="vda", bus="virtio")
    if network:
        nic = _sub(dev, "interface", type="network")
        _sub(nic, "source", network=network)
        _sub(nic, "model", type="virtio")
        _sub(nic, "rom", bar="off")  # no PXE traffic from the boot ROM
    _sub(dev, "graphics", type="vnc", autoport="yes", listen=vnc_listen)
    _sub(dev, "video").append(etree.Element("model", type="vga"))
    return etree.tostring(dom, pretty_print=True, encoding="unicode")


def define_and_start(conn, name, directory, memory_mib=256):
    """Define NAME with a fresh disk in DIRECTORY, start it, return the virDomain."""
    dom = conn.defineXML(domain_xml(name, make_disk(directory, name), memory_mib))
    dom.create()
    return dom


def remove(conn, name):
    """Stop and undefine the domain `name` on `conn` if it is there, whatever state a test left it in (its
    saved state and snapshot metadata too). A cleanup: a domain already gone is not an error."""
    import libvirt

    try:
        dom = conn.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    except libvirt.libvirtError:
        pass


def main(argv):
    import libvirt

    if not 2 <= len(argv) <= 4:
        sys.exit("usage: " + __doc__.strip().splitlines()[-1].split(":", 1)[1].strip())
    name = argv[1]
    uri = argv[2] if len(argv) > 2 else "qemu+tcp://127.0.0.1:16509/system"
    lab_dir = os.environ.get("LAB_DIR") or os.path.join(os.path.dirname(__file__), "..", "var", "lab")
    directory = os.path.abspath(argv[3] if len(argv) > 3 else os.path.join(lab_dir, "disks"))
    dom = define_and_start(libvirt.open(uri), name, directory)
    running = dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    print(f"{name}: {'running' if running else dom.state()} on {uri}; disk in {directory}")
    print(f"remove with: virsh -c {uri} destroy {name}; virsh -c {uri} undefine {name}")
    sys.exit(0 if running else 1)


if __name__ == "__main__":
    main(sys.argv)
