"""The console pages, the screenshot and the console card on the VM page."""
import io
import json

import pytest
from PIL import Image

from console.refusals import Refusal
from instances.models import Instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def vms(make_host):
    make_host("small")
    return {vm.name: vm for vm in Instance.objects.all()}


def config_of(response):
    html = response.content.decode()
    start = html.index('<script id="console-config" type="application/json">') + len(
        '<script id="console-config" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


@pytest.mark.parametrize(("path", "kind", "script"), [("console/", "vnc", "js/console.js"),
                                                      ("console/serial/", "serial", "js/serial.js")])
def test_it_shows_the_console_page_with_what_its_script_needs(admin_client, vms, path, kind, script):
    vm = vms["web1"]
    response = admin_client.get(f"/instances/{vm.pk}/{path}")
    assert response.status_code == 200
    config = config_of(response)
    assert config["kind"] == kind and config["ticket_url"] == f"/api/instances/{vm.pk}/console/"
    assert set(config["refusals"]) == {str(r.value) for r in Refusal}
    assert script in response.content.decode()
    assert "ticket=" not in response.content.decode()  # tickets are fetched per connection, never in the page


def test_it_offers_the_key_combinations_and_tools(admin_client, vms):
    html = admin_client.get(f"/instances/{vms['web1'].pk}/console/").content.decode()
    for control in ('data-console="ctrl-alt-del"', 'data-keys="XK_Control_L XK_Alt_L XK_F1"', 'data-console="type"',
                    'data-console="clipboard"', 'id="console-scale"', 'data-console="fullscreen"',
                    'data-console="reconnect"', f"/instances/{vms['web1'].pk}/console/screenshot.png"):
        assert control in html


def test_it_answers_404_for_an_unknown_vm(admin_client, vms):
    assert admin_client.get("/instances/999999/console/").status_code == 404
    assert admin_client.get("/instances/999999/console/screenshot.png").status_code == 404


def test_it_serves_the_screen_as_png(admin_client, vms):
    response = admin_client.get(f"/instances/{vms['web1'].pk}/console/screenshot.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size[0] > 0


def test_it_explains_why_there_is_no_screenshot(admin_client, vms):
    response = admin_client.get(f"/instances/{vms['db1'].pk}/console/screenshot.png")
    assert response.status_code == 409 and "not running" in response.content.decode().lower()


def test_it_refuses_to_post_to_the_screenshot(admin_client, vms):
    assert admin_client.post(f"/instances/{vms['web1'].pk}/console/screenshot.png").status_code == 405


def test_it_puts_a_console_card_on_the_vm_page(admin_client, vms):
    html = admin_client.get(f"/instances/{vms['web1'].pk}/").content.decode()
    assert f"/instances/{vms['web1'].pk}/console/" in html and f"/instances/{vms['web1'].pk}/console/serial/" in html
    # A running VM's page can show the console itself, once asked (the module loads on the click).
    assert 'id="console-embed"' in html and 'id="console-screen"' in html and 'data-console="ctrl-alt-del"' in html
    assert config_of(admin_client.get(f"/instances/{vms['web1'].pk}/"))["kind"] == "vnc"
    assert 'src="/static/js/console.js"' not in html


def test_it_offers_no_embedded_console_for_a_vm_that_is_not_running(admin_client, vms):
    html = admin_client.get(f"/instances/{vms['db1'].pk}/").content.decode()
    assert 'id="console-embed"' not in html and f"/instances/{vms['db1'].pk}/console/" in html


def test_it_converts_an_older_qemus_ppm_to_png():
    from console.services import as_png

    ppm = io.BytesIO()
    Image.new("RGB", (8, 4), (10, 20, 30)).save(ppm, format="PPM")
    with Image.open(io.BytesIO(as_png("image/x-portable-pixmap", ppm.getvalue()))) as image:
        assert image.format == "PNG" and image.size == (8, 4) and image.getpixel((3, 2)) == (10, 20, 30)
    assert as_png("image/png", b"\x89PNG...") == b"\x89PNG..."
