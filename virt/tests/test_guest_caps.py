"""Host guest capabilities for the wizard: domain type (and why), machines, UEFI, limits, on fixed XML."""
import libvirt
import pytest

from virt.guest_caps import guest_caps, parse_guest_caps

INFO = ["x86_64", 8192, 4, 2400, 1, 1, 4, 1]


def caps_xml(features=("vmx",), types=("qemu", "kvm")):
    feature_xml = "".join(f"<feature name='{name}'/>" for name in features)
    domains = "".join(f"<domain type='{t}'/>" for t in types)
    return f"""<capabilities><host><cpu><arch>x86_64</arch>{feature_xml}</cpu></host>
      <guest><os_type>hvm</os_type><arch name='i686'><emulator>/usr/bin/qemu-system-i386</emulator>
        <machine maxCpus='255'>pc-i440fx-7.2</machine>{domains}</arch></guest>
      <guest><os_type>hvm</os_type><arch name='x86_64'><emulator>/usr/bin/qemu-system-x86_64</emulator>
        <machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
        <machine maxCpus='288'>pc-q35-7.2</machine><machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
        {domains}</arch></guest></capabilities>"""


def dom_caps_xml(loaders=(), firmware=()):
    values = "".join(f"<value>{path}</value>" for path in loaders)
    fw = "".join(f"<value>{name}</value>" for name in firmware)
    return f"""<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain>
      <machine>pc-i440fx-7.2</machine><arch>x86_64</arch><vcpu max='240'/>
      <os supported='yes'><enum name='firmware'>{fw}</enum><loader supported='yes'>{values}
      <enum name='type'><value>rom</value><value>pflash</value></enum></loader></os></domainCapabilities>"""


def test_it_chooses_kvm_when_the_cpu_has_vmx():
    caps = parse_guest_caps(caps_xml(("vmx",)), INFO)
    assert (caps.arch, caps.domain_type, caps.reason) == ("x86_64", "kvm", "kvm")
    assert {"pc", "q35"} <= set(caps.machines) and caps.emulator == "/usr/bin/qemu-system-x86_64"


def test_it_chooses_tcg_when_kvm_has_no_vmx_or_svm():
    caps = parse_guest_caps(caps_xml(()), INFO)
    assert (caps.domain_type, caps.reason, caps.domain_types) == ("qemu", "kvm-no-vmx", ("qemu", "kvm"))


def test_it_chooses_tcg_when_kvm_is_not_offered():
    caps = parse_guest_caps(caps_xml(("svm",), types=("qemu",)), INFO)
    assert (caps.domain_type, caps.reason) == ("qemu", "tcg")


def test_it_offers_uefi_only_when_the_host_lists_ovmf():
    assert not parse_guest_caps(caps_xml(), INFO, {"kvm": dom_caps_xml()}).uefi
    with_ovmf = parse_guest_caps(caps_xml(), INFO, {"kvm": dom_caps_xml(["/usr/share/OVMF/OVMF_CODE_4M.fd"])})
    assert with_ovmf.uefi and with_ovmf.uefi_loaders == ("/usr/share/OVMF/OVMF_CODE_4M.fd",)
    assert parse_guest_caps(caps_xml(), INFO, {"kvm": dom_caps_xml(firmware=["efi", "bios"])}).uefi


def test_it_limits_vcpus_to_the_host_cpus_and_the_hypervisor():
    assert parse_guest_caps(caps_xml(), INFO, {"kvm": dom_caps_xml()}).max_vcpus == 4
    many = parse_guest_caps(caps_xml(), ["x86_64", 8192, 512, 2400, 1, 1, 4, 1], {"kvm": dom_caps_xml()})
    assert many.max_vcpus == 240 and many.memory_mib == 8192


def test_it_reads_the_test_driver_which_has_no_domain_capabilities():
    caps = guest_caps(libvirt.open("test:///default"))
    assert (caps.domain_type, caps.reason, caps.machines, caps.uefi) == ("test", "other", (), False)
    assert caps.max_vcpus >= 1 and caps.memory_mib > 0


@pytest.mark.lab
def test_it_reads_the_labs_qemu_as_tcg_because_its_kvm_has_no_vmx(lab):
    conn = libvirt.open(lab["uri"])
    try:
        caps = guest_caps(conn)
        info = conn.getInfo()
    finally:
        conn.close()
    assert caps.arch == "x86_64" and caps.domain_type == "qemu" and "q35" in caps.machines
    assert caps.max_vcpus == info[2] and caps.memory_mib == info[1]
