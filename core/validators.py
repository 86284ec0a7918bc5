import unicodedata

from django.core.exceptions import ValidationError

# Key and certificate texts are a few KiB; anything near this is not a credential.
CREDENTIAL_MAX = 64 * 1024


def no_control_characters(value):
    """Names end up in logs, job titles and terminals: no escape sequences, bells or line breaks."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError("Control characters are not allowed.", code="control_characters")
