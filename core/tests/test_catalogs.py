"""The Vietnamese catalogs of the apps and of virt/: well-formed, complete, compiled, and used by virt/."""
import subprocess

import pytest
from django.core.management import call_command
from django.utils import translation

from core.testing.i18n import SKIPPED_DIRS, catalogs, compiled_catalogs  # noqa: F401 - the fixture
from virt.errors import OperationInvalid
from virt.lifecycle import check

APPS = ("core", "accounts", "access", "audit", "hosts", "instances", "networks", "storage", "console", "metrics",
        "dashboard", "virt")


def app_catalog(app):
    return next(path for path in catalogs() if path.parts[-5:] == (app, "locale", "vi", "LC_MESSAGES", "django.po"))


@pytest.mark.parametrize("app", APPS)
def test_it_has_a_complete_vietnamese_catalog_per_app(app):
    # --check: placeholders (python-format, python-brace-format) kept, header valid; statistics on stderr.
    checked = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(app_catalog(app))],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "translated message" in checked.stderr
    assert "untranslated" not in checked.stderr and "fuzzy" not in checked.stderr, checked.stderr


def test_it_checks_every_catalog_with_msgfmt():
    for path in catalogs():
        checked = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{path}: {checked.stderr}"


def test_it_compiles_every_catalog():
    call_command("compilemessages", ignore_patterns=list(SKIPPED_DIRS), verbosity=0)
    assert all(path.with_suffix(".mo").stat().st_mtime >= path.stat().st_mtime for path in catalogs())


@pytest.mark.usefixtures("compiled_catalogs")
@pytest.mark.parametrize("language, message", [
    ("en", "Cannot save a VM that is shut off (it has no persistent definition)."),
    ("vi", "Không thể lưu một VM khi nó đã tắt (nó không có định nghĩa persistent)."),
])
def test_it_raises_virt_errors_in_the_active_language(language, message):
    with translation.override(language), pytest.raises(OperationInvalid) as raised:
        check("save", "shutoff", persistent=False)
    assert raised.value.message == message
