"""The Vietnamese UI in Chromium: a browser whose language is Vietnamese gets the login page, the dashboard, a VM's
page and the create wizard in Vietnamese, the live-status badge too (static/js through Django's JavaScript
catalog, under the CSP); the switcher in the header turns the UI English and the choice holds across pages
(a cookie, over the browser's Accept-Language), then back."""
import contextlib

import pytest
from playwright.sync_api import expect, sync_playwright

from core.testing import PASSWORD
from instances.models import Instance
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, daphne  # noqa: F401 - daphne is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def vietnamese_page():
    """A Chromium page whose language is Vietnamese (navigator.language and Accept-Language: vi-VN)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 800}).new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


def test_it_shows_the_ui_in_the_browsers_language_and_switches_it(admin_user, make_host, daphne):  # noqa: F811
    make_host("small")
    vm = Instance.objects.get(name="web1")
    with vietnamese_page() as page:
        page.goto(f"{daphne}/login/")
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        page.get_by_label("Tên đăng nhập").fill("admin")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()

        expect(page).to_have_url(f"{daphne}/")
        expect(page.locator("h1")).to_have_text("Tổng quan")
        nav = page.locator("nav")
        expect(nav.get_by_role("link", name="Máy ảo")).to_be_visible()
        expect(nav.get_by_role("link", name="Tác vụ")).to_be_visible()
        expect(page.locator("#live-status")).to_have_text("trực tiếp")  # live.js: gettext() from /jsi18n/
        expect(page.locator("#language-switcher button[aria-pressed=true]")).to_have_attribute("value", "vi")

        page.goto(f"{daphne}{vm.get_absolute_url()}")
        for header in ("Tổng quan", "Bộ đếm", "Ổ đĩa", "Card mạng"):
            expect(page.locator(".card-header", has_text=header).first).to_be_visible()
        expect(page.locator("dt", has_text="Tự khởi động")).to_be_visible()

        page.goto(f"{daphne}/instances/new/")
        expect(page.locator("h1")).to_have_text("Tạo máy ảo")
        expect(page.locator(".card-header").first).to_have_text("1. Máy chủ và cách cài đặt")

        page.locator("#language-switcher button[value=en]").click()
        expect(page).to_have_url(f"{daphne}/instances/new/")  # back to the page it was switched on
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Create a VM")
        page.locator("nav").get_by_role("link", name="Dashboard").click()
        expect(page.locator("h1")).to_have_text("Dashboard")  # the cookie wins over the browser's vi-VN
        expect(page.locator("#live-status")).to_have_text("live")
        page.goto(f"{daphne}{vm.get_absolute_url()}")
        expect(page.locator(".card-header", has_text="Counters")).to_be_visible()

        page.locator("#language-switcher button[value=vi]").click()
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page.locator(".card-header", has_text="Bộ đếm")).to_be_visible()
        page.screenshot(path="/tmp/virtdeck-vi-instance.png", full_page=True)
