"""Compiled catalogs for tests that ask for Vietnamese: the .mo files are not committed (scripts/setup.sh
compiles them), so a test run compiles the .po files that changed since."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real

SKIPPED_DIRS = (".venv", "node_modules", "static/vendor", "var")


def catalogs():
    """Every .po file of the project (root locale/, each app's locale/, virt/locale/)."""
    base = Path(settings.BASE_DIR)
    return sorted(path for path in base.glob("**/locale/*/LC_MESSAGES/*.po")
                  if not str(path.relative_to(base)).startswith(SKIPPED_DIRS))


@pytest.fixture(scope="session")
def compiled_catalogs():
    stale = [po for po in catalogs() if not po.with_suffix(".mo").exists()
             or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if stale:
        call_command("compilemessages", ignore_patterns=list(SKIPPED_DIRS), verbosity=0)
        # A catalog loaded before compiling stays cached otherwise.
        trans_real._translations, trans_real._default = {}, None


@pytest.fixture
def translated(compiled_catalogs):
    """Compiled catalogs, and no language left active after the test: LocaleMiddleware activates a request's
    language for the thread and leaves it there (a server thread's next request activates its own), so a
    test's Accept-Language: vi would otherwise carry over to the next tests."""
    yield
    translation.deactivate()
