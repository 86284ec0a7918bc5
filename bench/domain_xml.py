"""The domain XML outputs of docs/concepts.md: what virtdeck's XML layer answers to an edit, a hostile document
and an invalid one, on libvirt's test driver (test:///default, in memory: nothing to clean up).

Run: `.venv/bin/python bench/domain_xml.py`
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import libvirt  # noqa: E402

from virt.domain import define  # noqa: E402
from virt.errors import InvalidConfig, translate  # noqa: E402
from virt.xml.diff import changed_parts  # noqa: E402
from virt.xml.domain import DomainXML  # noqa: E402
from virt.xml.parser import parse_untrusted  # noqa: E402

HOSTILE = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain type="qemu"><name>&x;</name></domain>'


def main():
    libvirt.registerErrorHandler(lambda *args: None, None)
    conn = libvirt.open("test:///default")
    old = conn.lookupByName("test").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    domain = DomainXML.from_xml(old)
    print(f"mapping: name={domain.name} type={domain.type} memory={domain.memory_kib} KiB vcpus={domain.vcpus}")
    domain.memory_kib = domain.current_memory_kib = 512 * 1024
    domain.vcpus = 4
    new = domain.to_xml()
    print("changed parts:", ", ".join(f"{part['part']} ({part['change']})" for part in changed_parts(old, new)))
    try:
        parse_untrusted(HOSTILE)
    except InvalidConfig as exc:
        print("hostile XML:", exc)
    try:
        domain.on_crash = "explode"  # not a value libvirt's schema allows
        define(conn, domain.to_xml())
    except libvirt.libvirtError as exc:  # what hosts.connection.call turns it into: the API's 400
        error = translate(exc)
        print(f"libvirt's validation ({type(error).__name__}):", " / ".join(str(error).splitlines()))
    conn.close()


if __name__ == "__main__":
    main()
