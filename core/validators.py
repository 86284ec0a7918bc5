import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from virt.names import MAX_NAME_BYTES, name_problem

# Key and certificate texts are a few KiB; anything near this is not a credential.
CREDENTIAL_MAX = 64 * 1024

# Unicode's Bidi_Control characters: they reorder the text around them, so that "rlo-\u202egpj.exe"
# shows as "rlo-exe.jpg" (Trojan Source, CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def no_control_characters(value):
    """Names end up in logs, job titles and terminals: no escape sequences, bells, line breaks or text
    direction overrides."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(_("Control characters are not allowed."), code="control_characters")
    bidi = sorted({f"U+{ord(ch):04X}" for ch in value if ch in BIDI_CONTROLS})
    if bidi:
        raise ValidationError(_("Bidirectional control characters (%(characters)s) are not allowed."),
                              code="control_characters", params={"characters": ", ".join(bidi)})


# virt.names' codes in the user's language (virt/ cannot translate).
NAME_PROBLEMS = {
    "empty": gettext_lazy("A name is required."),
    "slash": gettext_lazy("A name cannot contain '/'."),
    "dot_dot": gettext_lazy("A name cannot contain '..' or be '.'."),
    "leading_dash": gettext_lazy("A name cannot start with '-'."),
    "too_long": gettext_lazy("A name can be at most %(max)d bytes long (UTF-8)."),
    "control_characters": gettext_lazy("Control characters are not allowed."),
    "bidi_characters": gettext_lazy("Bidirectional control characters are not allowed."),
    "not_unicode": gettext_lazy("A name must be valid Unicode text."),
}


def libvirt_name_problem(name):
    """Why `name` cannot name a libvirt object virtdeck makes (a VM, snapshot, volume: virt.names' rules),
    in the user's language; None if it can."""
    problem = name_problem(name)
    return None if problem is None else str(NAME_PROBLEMS[problem]) % {"max": MAX_NAME_BYTES}
