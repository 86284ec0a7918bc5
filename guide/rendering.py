"""docs/concepts.md (or its translation under docs/<language>/) rendered to HTML for the guide page.

The guides are the project's own files, not user input: their HTML is shown as is. python-markdown with
attr_list (the `{#id}` each section carries: pages link to those ids) and toc. The strict CSP forbids inline
styles, so tables get Bootstrap classes here instead of the `style` attributes an aligned column would get.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import markdown
from django.conf import settings
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

# Languages with their own translation of the guide; any other language reads the English one.
TRANSLATED = ("vi",)
TABLE_CLASS = "table table-sm table-bordered bg-body"
# fenced_code stashes its blocks as raw HTML, which tree processors never see: classed in the output instead.
PRE_CLASS = "bg-body border rounded p-2"


@dataclass(frozen=True)
class Guide:
    language: str  # the language the text is in
    html: str
    toc: str  # the nested list of section links


def source(language):
    """The guide's Markdown file for a language code such as "vi" or "en-us"."""
    docs = Path(settings.BASE_DIR) / "docs"
    base = (language or "").split("-")[0].lower()
    if base in TRANSLATED:
        return base, docs / base / "concepts.md"
    return "en", docs / "concepts.md"


class _BootstrapClasses(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            if element.tag == "table":
                element.set("class", TABLE_CLASS)
            element.attrib.pop("style", None)  # aligned table columns: the CSP would block it anyway


class _BootstrapExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 - python-markdown's name
        md.treeprocessors.register(_BootstrapClasses(md), "virtdeck_bootstrap", 0)


def render(language):
    """The guide for `language` (see source)."""
    text_language, path = source(language)
    return _render(text_language, path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _render(language, path, _mtime):  # the mtime in the key: an edited file is read again
    md = markdown.Markdown(extensions=["attr_list", "toc", "tables", "fenced_code", _BootstrapExtension()],
                           extension_configs={"toc": {"toc_depth": "2"}})
    html = md.convert(path.read_text(encoding="utf-8")).replace("<pre><code", f'<pre class="{PRE_CLASS}"><code')
    return Guide(language=language, html=html, toc=md.toc)
