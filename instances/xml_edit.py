"""The domain XML editor and create-from-XML: the services its pages and /api/instances/ share.

XML from users goes through the hostile-input parser first (no DTD, no entities, bounded size and depth);
libvirt then validates it against its schema when it is defined (virt.domain.define, validate=True) and its
message is the error. The editor reads and answers the inactive definition *without* secrets: a graphics
password never leaves the host. An edit that leaves the password out keeps the one the VM has (taken from
the secure definition, here on the server); there is no way to read it back.

A `digest` (SHA-256 of the definition as shown, Proxmox's idea) guards against lost updates: an edit that
names the digest it started from is refused if the definition changed meanwhile.

Defining XML never touches a running VM: for one that runs, the whole edit applies at its next boot (a full
shutdown and start), and `next_boot` names every part the running VM does not have yet.
"""
import copy
import difflib
import hashlib
import uuid as uuidlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lxml import etree

from hosts.connection import call
from virt.domain import Domain, define, define_new
from virt.errors import InvalidConfig, OperationInvalid
from virt.names import check_name
from virt.xml.base import insert_ordered
from virt.xml.diff import changed_parts, next_boot_changes
from virt.xml.domain import DomainXML
from virt.xml.parser import parse_trusted, parse_untrusted, to_string

from .inventory import refresh_one

# A real definition is a few KiB (a VM with dozens of devices stays under 50 KiB).
MAX_XML_BYTES = 512 * 1024
# Attributes libvirt prints only with VIR_DOMAIN_XML_SECURE; kept from the VM when an edit omits them.
SECRET_ATTRIBUTES = ("passwd", "passwdValidTo")


@dataclass
class XMLEdit:
    """What an edit changes. Never holds a secret: `xml` and `diff` come without passwords."""

    xml: str  # the inactive definition after the edit (for a dry run: as submitted, without secrets)
    changes: list = field(default_factory=list)  # virt.xml.diff.changed_parts, old -> new
    diff: list = field(default_factory=list)  # unified diff lines of old -> new
    next_boot: list = field(default_factory=list)  # parts a running VM runs only after its next boot
    running: bool = False
    applied: bool = False  # False for a dry run
    digest: str = ""  # of the definition now on the host: after the edit, or for a dry run the current one


def parse_user_xml(text):
    """A `<domain>` element from XML a user typed or uploaded; InvalidConfig says what is wrong with it."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    if len(text) > MAX_XML_BYTES:
        raise InvalidConfig(_("The XML is %(size)d bytes long; at most %(max)d bytes are accepted.")
                            % {"size": len(text), "max": MAX_XML_BYTES})
    root = parse_untrusted(text)
    if root.tag != "domain":  # also <domain> in a namespace, which libvirt does not read
        raise InvalidConfig(_("The XML must be a <domain> definition, not <%(tag)s>.")
                            % {"tag": etree.QName(root).localname})
    return root


def without_secrets(root):
    """A copy of a definition with graphics passwords left out: what may be shown or returned."""
    root = copy.deepcopy(root)
    for graphics in root.iterfind("devices/graphics"):
        for name in SECRET_ATTRIBUTES:
            graphics.attrib.pop(name, None)
    return root


def has_passwords(root):
    return any(g.get(name) is not None for g in root.iterfind("devices/graphics") for name in SECRET_ATTRIBUTES)


def keep_passwords(root, secure):
    """Give each graphics device of `root` that has no password the one the same kind of device has in
    `secure` (the VM's definition with secrets). In place; returns root."""
    kept = {g.get("type"): g for g in secure.iterfind("devices/graphics") if g.get("passwd") is not None}
    for graphics in root.iterfind("devices/graphics"):
        old = kept.get(graphics.get("type"))
        if old is None or graphics.get("passwd") is not None:
            continue
        for name in SECRET_ATTRIBUTES:
            if old.get(name) is not None:
                graphics.set(name, old.get(name))
    return root


def _check_identity(root, current):
    """The edit must stay on this VM: same UUID (filled in when left out), same name."""
    uuid = root.find("uuid")
    if uuid is None:
        uuid = etree.Element("uuid")
        uuid.text = current.findtext("uuid")
        insert_ordered(root, uuid, DomainXML.ORDER)
    else:
        try:
            same = uuidlib.UUID((uuid.text or "").strip()) == uuidlib.UUID(current.findtext("uuid"))
        except ValueError:
            raise InvalidConfig(_("%(uuid)r is not a valid UUID.") % {"uuid": (uuid.text or "")[:60]}) from None
        if not same:
            raise InvalidConfig(_("The UUID cannot be changed: this VM is %(uuid)s. To make another VM from "
                                  "this XML, use Create from XML.") % {"uuid": current.findtext("uuid")})
    if root.findtext("name") != current.findtext("name"):
        raise InvalidConfig(_("The name cannot be changed here (this VM is %(name)s): rename the VM instead, "
                              "while it is shut off.") % {"name": current.findtext("name")})


def text_diff(old, new):
    """Unified diff lines (without line ends) of two definitions, secrets left out of both."""
    before = to_string(without_secrets(old)).splitlines()
    after = to_string(without_secrets(new)).splitlines()
    return list(difflib.unified_diff(before, after, _("current"), _("edited"), lineterm="", n=3))


def digest(shown_xml):
    """The digest of a definition as read_xml shows it (without secrets: a digest must not help guess one)."""
    return hashlib.sha256(shown_xml.encode()).hexdigest()


def read_xml(instance):
    """The VM's inactive definition (what its next boot uses), without secrets, as an XMLEdit of no change:
    `next_boot` names what a running VM still waits for (an earlier edit, or one made outside virtdeck)."""
    uuid = str(instance.uuid)

    def read(conn):
        dom = Domain.lookup(conn, uuid)
        shown = dom.xml_desc(inactive=True)
        running = dom.is_active()
        return XMLEdit(xml=shown, digest=digest(shown), running=running,
                       next_boot=next_boot_changes(dom.xml_desc(secure=True), dom.xml_desc(inactive=True, secure=True))
                       if running else [])

    return call(instance.host, read)


def edit_xml(instance, text, dry_run=False, expected_digest=None):
    """Replace the VM's definition by `text`, validated by libvirt; with dry_run only say what would change.

    Raises InvalidConfig (the message says why: our checks or libvirt's validation), or OperationInvalid when
    `expected_digest` is given and the definition changed since; nothing is changed then.
    """
    root = parse_user_xml(text)
    uuid = str(instance.uuid)

    def edit(conn):
        dom = Domain.lookup(conn, uuid)
        shown = dom.xml_desc(inactive=True)
        if expected_digest and expected_digest != digest(shown):
            raise OperationInvalid(_("The definition of %(name)s changed on its host since you read it: read it "
                                     "again and redo the edit.") % {"name": dom.name})
        current = parse_trusted(dom.xml_desc(inactive=True, secure=True))
        _check_identity(root, current)
        keep_passwords(root, current)
        if dry_run:
            new, result_xml = root, to_string(without_secrets(root))
        else:
            define(conn, etree.tostring(root, encoding="unicode"), validate=True)
            new = parse_trusted(dom.xml_desc(inactive=True, secure=True))
            shown = result_xml = dom.xml_desc(inactive=True)
        running = dom.is_active()
        return XMLEdit(
            xml=result_xml,
            digest=digest(shown),
            changes=changed_parts(current, new),
            diff=text_diff(current, new),
            next_boot=next_boot_changes(dom.xml_desc(secure=True), new) if running else [],
            running=running,
            applied=not dry_run,
        )

    result = call(instance.host, edit)
    if not dry_run:
        refresh_one(instance.host, uuid)
    return result


def create_from_xml(host, text):
    """Define a new VM on `host` from a user's XML; returns its inventory row.

    Refused (InvalidConfig, nothing defined): hostile or oversized XML, a name a domain on the host already
    has or that virtdeck does not accept, an existing UUID, anything libvirt's validation refuses (such as a
    domain type the host does not offer).
    """
    root = parse_user_xml(text)
    check_name(root.findtext("name") or "", what="VM name")
    uuid = call(host, lambda conn: define_new(conn, etree.tostring(root, encoding="unicode")).uuid)
    return refresh_one(host, uuid)
