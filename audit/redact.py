"""Parameters for the audit log, with every secret taken out (names that say secret, and passwords in XML)."""
import math
import re

SECRET_NAME = re.compile(r"pass|secret|token|private_key|client_key|csrf|ticket", re.IGNORECASE)
XML_PASSWORD = re.compile(r"""(passwd\s*=\s*)(['"]).*?\2""", re.IGNORECASE)
MAX_TEXT = 2000
MAX_ITEMS = 100
MAX_DEPTH = 8
REDACTED = "[redacted]"


def redact(value, key="", depth=0):
    if key and SECRET_NAME.search(key):
        return REDACTED
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        return "[nested]"
    if isinstance(value, dict):
        return {str(k)[:100]: redact(v, str(k), depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    if isinstance(value, (list, tuple)):
        return [redact(v, depth=depth + 1) for v in value[:MAX_ITEMS]]
    if isinstance(value, str):
        text = XML_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)[:MAX_TEXT]
