"""The concepts guide (docs/concepts.md and its Vietnamese docs/vi/concepts.md): every figure says how to
reproduce it, both languages have the same sections, and every section a page links to exists."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# language -> (file, the label of a reproduction line, the label of a reference's source line)
GUIDES = {
    "en": (ROOT / "docs" / "concepts.md", "Reproduce:", "Source:"),
    "vi": (ROOT / "docs" / "vi" / "concepts.md", "Tái hiện:", "Nguồn:"),
}
# The sections the issue asks for and pages link to ("Learn more"), plus the older ones.
REQUIRED_IDS = ("rings", "virtualization-types", "kvm-and-tcg", "domain-xml", "thin-and-thick", "raw-and-qcow2",
                "snapshots", "network-modes", "nat-packet-path", "live-migration", "inventory", "transports")
HEADING_ID = re.compile(r"^#{1,6} .*\{#([a-z0-9-]+)\}\s*$")
# A measured quantity: a number with a unit or a ratio. Blocks without one are references (a source line will do).
MEASURED = re.compile(r"\d(?:\.\d+)?\s?(?:ms|s|µs|MiB|KiB|GiB|MB|%|IOPS|pages/s)(?![\w])|\d+(?:\.\d+)?x\b")
# Command blocks for the reader to type are not figures.
COMMAND_FENCES = ("sh", "bash")
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
URL_ANCHOR = re.compile(r"""\{%\s*url\s+['"]guide:concepts['"]\s*%\}#([\w-]+)""")
LEARN_MORE = re.compile(r"""\{%\s*include\s+['"]core/_learn_more\.html['"]([^%]*)%\}""")
LEARN_MORE_ID = re.compile(r"""\b(?:anchor|section|id)=['"]([\w-]+)['"]""")


def blocks(text):
    """[(kind, first line number, content)] of the fenced blocks (not command blocks) and tables of `text`."""
    lines = text.splitlines()
    found, index = [], 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            info, start = line[3:].strip(), index
            index += 1
            while index < len(lines) and not lines[index].startswith("```"):
                index += 1
            if info not in COMMAND_FENCES:
                found.append(("block", start + 1, "\n".join(lines[start + 1:index]), index + 1))
        elif line.startswith("|"):
            start = index
            while index + 1 < len(lines) and lines[index + 1].startswith("|"):
                index += 1
            found.append(("table", start + 1, "\n".join(lines[start:index + 1]), index + 1))
        index += 1
    return found, lines


def unexplained(text, reproduce, source):
    """Blocks and tables not followed by their reproduction line (or, with no measured figure, a source line)."""
    found, lines = blocks(text)
    problems = []
    for kind, first, content, after in found:
        following = next((line.strip() for line in lines[after:] if line.strip()), "")
        labels = (reproduce,) if MEASURED.search(content) else (reproduce, source)
        if not following.startswith(labels):
            problems.append(f"{kind} at line {first} is followed by {following[:60]!r}, not {' or '.join(labels)}")
    return problems


def section_ids(text):
    return [match.group(1) for match in map(HEADING_ID.match, text.splitlines()) if match]


def linked_ids():
    """Every guide section a template links to: `{% url 'guide:concepts' %}#ID`, or the Learn more include."""
    ids = set()
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            ids.update(URL_ANCHOR.findall(text))
            for arguments in LEARN_MORE.findall(text):
                ids.update(LEARN_MORE_ID.findall(arguments))
    return ids


@pytest.mark.parametrize("language", GUIDES)
def test_it_follows_every_figure_with_its_reproduction(language):
    path, reproduce, source = GUIDES[language]
    text = path.read_text(encoding="utf-8")
    assert len(blocks(text)[0]) >= 10  # the guide's outputs and tables are there to be checked
    assert unexplained(text, reproduce, source) == []


def test_it_finds_a_figure_without_its_reproduction():
    sample = ("| kind | IOPS |\n|---|---|\n| raw | 15097 |\n\nSome prose.\n\n```text\nTotal downtime: 10 ms\n```\n"
              "Reproduce: virsh domjobinfo VM --completed\n\n| mode | use |\n|---|---|\n| NAT | labs |\n\n"
              "Source: libvirt\n\n```text\ndowntime 88 ms\n```\n\nSource: a guess\n\n```sh\nvirsh list\n```\n")
    assert [problem.split(" is ")[0] for problem in unexplained(sample, "Reproduce:", "Source:")] == [
        "table at line 1", "block at line 18"]


def test_it_gives_both_guides_the_same_sections_in_the_same_order():
    english, vietnamese = (section_ids(GUIDES[language][0].read_text(encoding="utf-8")) for language in ("en", "vi"))
    assert english == vietnamese
    assert len(set(english)) == len(english)  # an id names one section


def test_it_has_every_section_the_pages_link_to():
    ids = set(section_ids(GUIDES["en"][0].read_text(encoding="utf-8")))
    assert set(REQUIRED_IDS) <= ids
    assert linked_ids() <= ids, sorted(linked_ids() - ids)


def test_it_finds_the_links_of_the_learn_more_include(tmp_path, monkeypatch):
    (tmp_path / "page.html").write_text('{% include "core/_learn_more.html" with anchor="snapshots" %}\n'
                                        "<a href=\"{% url 'guide:concepts' %}#live-migration\">x</a>")
    monkeypatch.setattr(f"{__name__}.TEMPLATE_DIRS", [tmp_path])
    assert linked_ids() == {"snapshots", "live-migration"}
