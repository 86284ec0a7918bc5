"""Under virtdeck's Content Security Policy (no inline script, no eval) the pages that run the most script still
work in Chromium, and the browser reports no violation: the noVNC and xterm consoles, the CodeMirror XML editor,
the network form (its script moved to a file), Swagger UI, and Chart.js drawing on a virtdeck page."""
import pytest
from playwright.sync_api import expect

from hosts.sync import sync_host
from instances.models import Instance
from tests.test_browser import chromium_page, daphne, log_in  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]

# Runs through the DevTools protocol before any page script, so the policy does not apply to it.
RECORD_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));"""


def violations(page, messages):
    """The page's violations and the console's reports of them since the last call."""
    seen = page.evaluate("window.__cspViolations") + [m for m in messages if "Content Security Policy" in m]
    messages.clear()
    return seen


def test_it_runs_the_consoles_editor_forms_and_charts_without_csp_violations(admin_user, lab_host, lab_guests,
                                                                             daphne, tmp_path):
    from console.tests.test_lab_serial import define_with_serial

    dom = define_with_serial(lab_guests, tmp_path)
    sync_host(lab_host)
    vm = Instance.objects.get(host=lab_host, uuid=dom.UUIDString())
    found = {}
    with chromium_page() as page:
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.context.add_init_script(RECORD_VIOLATIONS)
        log_in(page, daphne, f"/instances/{vm.pk}/console/")
        expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
        expect(page.locator("#console-screen canvas")).to_be_visible()
        found["vnc"] = violations(page, messages)

        page.goto(f"{daphne}/instances/{vm.pk}/console/serial/")
        expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
        expect(page.locator("#console-screen .xterm-rows")).to_be_visible()
        found["serial"] = violations(page, messages)

        page.goto(f"{daphne}/instances/{vm.pk}/")
        page.get_by_role("button", name="Show the console here").click()  # console_embed.js, no longer inline
        expect(page.locator("#console-status")).to_have_text("connected", timeout=20_000)
        found["embedded console"] = violations(page, messages)

        page.goto(f"{daphne}/instances/{vm.pk}/xml/")
        expect(page.locator(".CodeMirror .cm-tag").first).to_be_visible()
        found["xml editor"] = violations(page, messages)

        page.goto(f"{daphne}/networks/add/")
        page.locator("#id_mode").select_option("macvtap")  # network_form.js hides what macvtap does not take
        expect(page.locator('[data-field="ipv4_address"]')).to_be_hidden()
        expect(page.locator('[data-field="macvtap_mode"]')).to_be_visible()
        found["network form"] = violations(page, messages)

        page.goto(f"{daphne}/api/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("virtdeck API")
        found["api docs"] = violations(page, messages)

        # No page draws a chart yet: load the vendored Chart.js into a virtdeck page, under its policy.
        page.goto(f"{daphne}/")
        page.add_script_tag(url="/static/vendor/chartjs/chart.umd.min.js")
        drawn = page.evaluate("""() => {
            const canvas = document.createElement('canvas');
            document.querySelector('main').append(canvas);
            new Chart(canvas, {type: 'line', options: {animation: false},
                               data: {labels: [1, 2, 3], datasets: [{label: 'cpu', data: [3, 1, 2]}]}});
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            return pixels.some((value, i) => i % 4 === 3 && value > 0);
        }""")
        assert drawn
        found["chart"] = violations(page, messages)
    assert all(not v for v in found.values()), found
