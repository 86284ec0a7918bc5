"""Names virtdeck gives libvirt objects it creates (pools, volumes), checked before libvirt sees them.

A volume name becomes a file name in a dir pool, an LV name in a logical pool and
an argument of qemu-img on the host; a pool name becomes a file under
/etc/libvirt/storage. So a name is refused when it could leave its directory
(`/`, `..`), be read as an option (a leading `-`), overflow a file name, or
mislead whoever reads it in a log, a job title or a terminal (control and
bidirectional control characters: the same rule as core.validators, which
virt/ cannot import; virt/tests/test_names.py checks that both agree).

`name_problem()` answers with a code so the application can show its own
translated text; `check_name()` raises InvalidConfig with an English message.
"""
import unicodedata

from .errors import InvalidConfig
from .i18n import _, gettext_noop

# 255 bytes is the file-name limit of Linux file systems; libvirt adds ".xml" (and the
# autostart link) to a pool's name, and tools add suffixes to temporary files.
MAX_NAME_BYTES = 240

# Unicode's Bidi_Control characters, as in core.validators.BIDI_CONTROLS.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

NAME_PROBLEMS = {
    "empty": gettext_noop("A name is required."),
    "slash": gettext_noop("A name cannot contain '/'."),
    "dot_dot": gettext_noop("A name cannot contain '..' or be '.'."),
    "leading_dash": gettext_noop("A name cannot start with '-'."),
    # The number written out (MAX_NAME_BYTES): callers show _(NAME_PROBLEMS[code]) as it is.
    "too_long": gettext_noop("A name can be at most 240 bytes long (UTF-8)."),
    "control_characters": gettext_noop("Control characters are not allowed."),
    "bidi_characters": gettext_noop("Bidirectional control characters are not allowed."),
    "not_unicode": gettext_noop("A name must be valid Unicode text."),
}


def name_problem(name):
    """The code (a key of NAME_PROBLEMS) of the first rule `name` breaks, or None if it is valid."""
    if not isinstance(name, str) or not name.strip():
        return "empty"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "control_characters"
    if any(ch in BIDI_CONTROLS for ch in name):
        return "bidi_characters"
    try:
        encoded = name.encode()
    except UnicodeEncodeError:  # lone surrogates from a badly decoded request
        return "not_unicode"
    if "/" in name:
        return "slash"
    if ".." in name or name == ".":
        return "dot_dot"
    if name.startswith("-"):
        return "leading_dash"
    if len(encoded) > MAX_NAME_BYTES:
        return "too_long"
    return None


def valid_name(name):
    return name_problem(name) is None


def check_name(name, what="name"):
    """Return `name` if valid; else raise InvalidConfig saying which rule it breaks, e.g. what="volume name"."""
    problem = name_problem(name)
    if problem is not None:
        shown = repr(name)[:80] if isinstance(name, str) else type(name).__name__
        raise InvalidConfig(_("Invalid {what} {shown}: {problem}")
                            .format(what=_(what), shown=shown, problem=_(NAME_PROBLEMS[problem])))
    return name
