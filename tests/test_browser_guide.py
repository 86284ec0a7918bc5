"""The concepts guide in Chromium under virtdeck's Content Security Policy: reached from the navigation, its
table of contents jumps to a section, and the browser reports no violation."""
import pytest
from playwright.sync_api import expect

from tests.test_browser import chromium_page, daphne, log_in  # noqa: F401 - fixtures
from tests.test_browser_csp import RECORD_VIOLATIONS, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_opens_the_guide_from_the_navigation_and_jumps_to_a_section(admin_user, daphne):
    with chromium_page() as page:
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.context.add_init_script(RECORD_VIOLATIONS)
        log_in(page, daphne)
        page.get_by_role("link", name="Guide").click()
        expect(page).to_have_url(f"{daphne}/guide/")
        expect(page.locator("article h1")).to_be_visible()
        page.locator("nav a[href='#live-migration']").click()
        expect(page).to_have_url(f"{daphne}/guide/#live-migration")
        expect(page.locator("#live-migration")).to_be_in_viewport()
        expect(page.locator("article table.table").first).to_be_visible()
        assert violations(page, messages) == []
