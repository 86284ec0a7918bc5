"""Instance actions and live reads, shared by views, API and tasks (inventory rows: instances.inventory)."""
from lxml import etree

from hosts.connection import call
from virt.domain import Domain
from virt.errors import VirtError
from virt.xml.domain import summarize

from .inventory import refresh_one


def on_domain(instance, fn, timeout=None):
    """Run fn(Domain) on the VM's host in one bounded pool call: the one way services reach a VM."""
    uuid = str(instance.uuid)
    return call(instance.host, lambda conn: fn(Domain.lookup(conn, uuid)), timeout=timeout)


def refreshed(instance):
    """The VM's row re-read from its host (one domain, not a host sync) after an action changed it.

    Returns the fresh row, or None when the domain is gone from the host (its row is deleted).
    """
    return refresh_one(instance.host, str(instance.uuid))


def read_details(instance):
    """Live configuration of one VM from its host: {'summary', 'xml', 'error'}.

    One bounded libvirt call; when the host is down the page still shows the
    inventory row and says why the details are missing.
    """
    try:
        xml = on_domain(instance, lambda dom: dom.xml_desc())
        summary = summarize(xml, trusted=True)
    except VirtError as exc:  # InvalidConfig included: the XML did not parse
        return {"summary": None, "xml": "", "error": exc.message}
    except (etree.LxmlError, ValueError) as exc:
        return {"summary": None, "xml": "", "error": f"the host's domain XML could not be read: {exc}"}
    return {"summary": summary, "xml": xml, "error": ""}
