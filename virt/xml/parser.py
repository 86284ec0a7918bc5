"""lxml parsers: one for XML from users (hostile), one for XML from libvirt."""
from lxml import etree

from ..errors import InvalidConfig
from ..i18n import _

# No entity expansion, no DTD or network access, no huge trees: XML typed by users.
_SAFE = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=False,
)
_TRUSTED = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def parse_untrusted(text):
    """Parse XML a user supplied; raise InvalidConfig with the parser's message."""
    if isinstance(text, str):
        text = text.encode()
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise InvalidConfig(_("XML with a DOCTYPE or entity declarations is not accepted."))
    try:
        return etree.fromstring(text, _SAFE)
    except etree.XMLSyntaxError as exc:
        raise InvalidConfig(_("Malformed XML: {exc}").format(exc=exc)) from None


def parse_trusted(text):
    """Parse XML that libvirt produced."""
    if isinstance(text, str):
        text = text.encode()
    return etree.fromstring(text, _TRUSTED)


def to_string(element):
    return etree.tostring(element, pretty_print=True, encoding="unicode")
