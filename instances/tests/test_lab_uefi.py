"""UEFI guests on the lab (libvirtd + QEMU under TCG, OVMF from Debian's `ovmf` package): the wizard offers UEFI
because the host's domain capabilities list the OVMF loader; a VM created through the API boots OVMF with its
own variable store (NVRAM), and deleting it removes that file. Read back with virsh, /proc and the file system."""
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from lxml import etree

from instances.creation_tasks import create_instance_task
from instances.models import Instance
from instances.tests.test_lab_create import qemu_runs, run

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def virsh(lab, *args, check=True):
    return subprocess.run(["virsh", "-c", lab["uri"], *args], capture_output=True, text=True, check=check)


def qemu_cmdline(name):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(f"guest={name},".encode()) for a in args):
            return b" ".join(args).decode()
    return ""


@pytest.fixture
def uefi_name(lab):
    """A random name; the VM, if the test left it, is removed with its NVRAM at the end (virsh, out of band)."""
    name = f"vd-uefi-{uuid.uuid4().hex[:8]}"
    yield name
    virsh(lab, "destroy", name, check=False)
    virsh(lab, "undefine", name, "--nvram", check=False)


def test_it_offers_uefi_because_the_host_lists_ovmf(admin_client, lab, lab_host):
    caps = etree.fromstring(virsh(lab, "domcapabilities", "--virttype", "qemu", "--arch", "x86_64").stdout.encode())
    loaders = caps.xpath("os/loader/value/text()")
    assert any("OVMF" in path for path in loaders), loaders

    page = admin_client.get(f"/instances/new/?host={lab_host.pk}&install=none").content.decode()

    assert 'value="uefi"' in page and "disabled" not in page.split('value="uefi"')[1].split(">")[0]
    assert "UEFI: this host lists OVMF firmware." in page


def test_it_creates_boots_and_deletes_a_uefi_vm_with_its_nvram(api, lab, lab_host, uefi_name):
    preview = api.post("/api/instances/", {"host": lab_host.pk, "name": uefi_name, "install": "none",
                                           "os_variant": "generic", "firmware": "uefi", "memory_mib": 256,
                                           "vcpus": 1, "dry_run": True}, format="json")
    assert preview.status_code == 200, preview.content
    assert etree.fromstring(preview.json()["xml"].encode()).find("os").get("firmware") == "efi"

    job = run(create_instance_task, api.post("/api/instances/", {
        "host": lab_host.pk, "name": uefi_name, "install": "none", "os_variant": "generic", "firmware": "uefi",
        "memory_mib": 256, "vcpus": 1}, format="json"))

    live = etree.fromstring(virsh(lab, "dumpxml", uefi_name).stdout.encode())
    loader, nvram = live.find("os/loader"), live.findtext("os/nvram")
    saved = etree.fromstring(virsh(lab, "dumpxml", "--inactive", uefi_name).stdout.encode())
    assert saved.find("os").get("firmware") == "efi"  # what virtdeck defined: libvirt picks the firmware
    # libvirt 9.0 picked OVMF from Debian's descriptors (on q35, Secure Boot with Microsoft's keys enrolled)
    assert "OVMF_CODE" in loader.text and loader.get("type") == "pflash" and loader.get("readonly") == "yes"
    assert nvram and Path(nvram).is_file() and Path(nvram).stat().st_size > 0  # libvirt copied the template
    assert virsh(lab, "domstate", uefi_name).stdout.strip() == "running" and qemu_runs(uefi_name)
    assert loader.text in qemu_cmdline(uefi_name) and nvram in qemu_cmdline(uefi_name)  # QEMU runs OVMF
    vm = Instance.objects.get(pk=job.result["instance"])

    assert api.post(f"/api/instances/{vm.pk}/destroy/").json()["state"] == "shutoff"
    deleted = api.delete(f"/api/instances/{vm.pk}/")

    assert deleted.status_code == 200, deleted.content
    assert virsh(lab, "dominfo", uefi_name, check=False).returncode != 0
    assert not Path(nvram).exists()  # undefined with VIR_DOMAIN_UNDEFINE_NVRAM
    assert not Instance.objects.filter(pk=vm.pk).exists()
