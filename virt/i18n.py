"""Translation of the messages virt/ shows to users, without importing Django.

Messages are written `_("... {name} ...").format(name=...)`: the msgid stays constant, so the catalog
(virt/locale/) can hold it, and libvirt's own text goes in through a placeholder, untranslated.
`_` returns the message unchanged until the application installs its translator (core.apps installs
Django's gettext, which follows the language active in the request or job).
"""

_translator = None


def install(translator):
    """Translate messages with `translator` (a gettext-like function of one string) from now on."""
    global _translator
    _translator = translator


def _(message):
    return message if _translator is None else _translator(message)


def gettext_noop(message):
    """Mark a message for the catalog where it is defined; `_` translates it where it is shown."""
    return message
