"""virt.names: the rules for names virtdeck gives pools and volumes, and their agreement with core's."""
import pytest
from django.core.exceptions import ValidationError

from core import validators
from virt.errors import InvalidConfig
from virt.names import BIDI_CONTROLS, MAX_NAME_BYTES, check_name, name_problem, valid_name

GOOD = ["disk.qcow2", "web01-data", "Debian 12 netinst.iso", "vm_1.img", ".hidden", "a.b.c", "ñandú.raw", "日本.img",
        "x" * MAX_NAME_BYTES, "é" * (MAX_NAME_BYTES // 2)]
BAD = {
    "": "empty",
    "   ": "empty",
    "../etc/passwd": "slash",
    "a/b": "slash",
    "/abs": "slash",
    "..": "dot_dot",
    ".": "dot_dot",
    "a..b": "dot_dot",
    "-o": "leading_dash",
    "--help.img": "leading_dash",
    "x" * (MAX_NAME_BYTES + 1): "too_long",
    "é" * (MAX_NAME_BYTES // 2 + 1): "too_long",  # 2 bytes each in UTF-8
    "bell\x07": "control_characters",
    "line\nbreak": "control_characters",
    "nul\x00": "control_characters",
    "esc\x1b[31m": "control_characters",
    "del\x7f": "control_characters",
    "rlo-\u202egpj.exe": "bidi_characters",
    "isolate\u2067x": "bidi_characters",
    "surrogate\udc80": "not_unicode",
}


@pytest.mark.parametrize("name", GOOD)
def test_it_accepts_ordinary_names(name):
    assert name_problem(name) is None and valid_name(name)
    assert check_name(name) == name


@pytest.mark.parametrize(("name", "problem"), BAD.items(), ids=range(len(BAD)))
def test_it_refuses_names_that_escape_mislead_or_overflow(name, problem):
    assert name_problem(name) == problem
    assert not valid_name(name)
    with pytest.raises(InvalidConfig, match="Invalid volume name"):
        check_name(name, "volume name")


def test_it_refuses_what_is_not_text():
    assert name_problem(None) == "empty"
    assert name_problem(b"disk.img") == "empty"
    with pytest.raises(InvalidConfig, match="Invalid pool name bytes"):
        check_name(b"disk.img", "pool name")


def test_it_never_echoes_control_or_bidi_characters_in_its_message():
    with pytest.raises(InvalidConfig) as caught:
        check_name("evil\x1b[2J\u202ename")
    assert "\x1b" not in caught.value.message and "\u202e" not in caught.value.message
    assert "\\x1b" in caught.value.message


def test_it_agrees_with_core_validators_on_control_and_bidi_characters():
    """virt/ cannot import Django: its copy of the rule must match core.validators.no_control_characters."""
    assert BIDI_CONTROLS == validators.BIDI_CONTROLS
    samples = [*GOOD, *BAD, "tab\tname", "zero\u200bwidth", "lrm\u200ename", "alm\u061cname", "ok-name"]
    for name in samples:
        try:
            validators.no_control_characters(name)
            core_refuses = False
        except ValidationError:
            core_refuses = True
        virt_refuses = name_problem(name) in ("control_characters", "bidi_characters")
        assert core_refuses == virt_refuses, name
