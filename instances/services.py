"""Instance actions and live reads, shared by views, API and tasks (inventory rows: instances.inventory)."""
from lxml import etree

from hosts.connection import call
from virt.errors import VirtError
from virt.xml.domain import summarize


def read_details(instance):
    """Live configuration of one VM from its host: {'summary', 'xml', 'error'}.

    One bounded libvirt call; when the host is down the page still shows the
    inventory row and says why the details are missing.
    """
    uuid = str(instance.uuid)
    try:
        xml = call(instance.host, lambda conn: conn.lookupByUUIDString(uuid).XMLDesc(0))
        summary = summarize(xml, trusted=True)
    except VirtError as exc:  # InvalidConfig included: the XML did not parse
        return {"summary": None, "xml": "", "error": exc.message}
    except (etree.LxmlError, ValueError) as exc:
        return {"summary": None, "xml": "", "error": f"the host's domain XML could not be read: {exc}"}
    return {"summary": summary, "xml": xml, "error": ""}
