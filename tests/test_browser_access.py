"""The browser tier for roles and grants: an operator granted one VM logs in, sees only that VM, acts on it and
finds the action in their activity page; the admin's audit page shows it too. Read back from the database."""
import re

import pytest
from playwright.sync_api import expect
from test_browser import chromium_page, daphne  # noqa: F401 (daphne is a fixture)

from audit.models import AuditEntry
from core.testing import PASSWORD
from core.testing.personas import make_personas
from instances.models import Instance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_as(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/")


def test_it_shows_an_operator_only_the_granted_vm_and_audits_what_they_do(make_host, daphne):  # noqa: F811
    people = make_personas(make_host)
    vm, other = people["vm"], people["other_vm"]
    with chromium_page() as page:
        log_in_as(page, daphne, "operator")
        expect(page.locator("nav")).not_to_contain_text("Access")  # admins only
        page.locator("nav").get_by_role("link", name="Instances").click()
        rows = page.locator("tr[data-uuid]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(vm.name)
        page.get_by_role("link", name=vm.name).click()
        page.locator('button[data-action="suspend"]').click()
        expect(page.locator("h1 .badge")).to_have_text(re.compile("paused"))
        response = page.goto(f"{daphne}/instances/{other.pk}/")
        assert response.status == 404
        page.goto(f"{daphne}/")
        page.get_by_role("link", name="My activity").click()
        expect(page.locator('tr[data-action="instances:instance_suspend"]')).to_contain_text("operator")
        users = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
        assert users and set(users) == {"operator"}  # their own entries only

        page.context.clear_cookies()
        log_in_as(page, daphne, "admin")
        page.get_by_role("link", name="Audit").click()
        expect(page.locator('tr[data-action="instances:instance_suspend"]')).to_contain_text("operator")
    assert Instance.objects.get(pk=vm.pk).state == "paused"
    assert AuditEntry.objects.filter(username="operator", action="instances:instance_suspend", result="ok").count() == 1
