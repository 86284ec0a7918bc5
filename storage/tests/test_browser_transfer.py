"""The browser tier for volume content: Chromium uploads a file into a lab volume from the volume page (its
progress bar reaching 100%) and downloads it back; the bytes are checked with `virsh vol-download`."""
import hashlib

import pytest
from playwright.sync_api import expect

from tests.test_browser import chromium_page, daphne, log_in  # noqa: F401 - daphne is a fixture

from .test_lab_storage import lab_pool, make_volume  # noqa: F401 - lab_pool is a fixture
from .test_lab_transfer import random_file, virsh_sha256

pytestmark = [pytest.mark.browser, pytest.mark.lab, pytest.mark.django_db(transaction=True)]
MIB = 2**20


def test_it_uploads_and_downloads_a_volume_from_its_page(admin_user, api, lab, lab_pool, daphne,  # noqa: F811
                                                         tmp_path):
    volume = make_volume(api, lab_pool, "page.raw", "raw", "thin", capacity=32 * MIB)
    source = tmp_path.parent / f"{tmp_path.name}-page-source"  # outside the pool's directory
    saved = tmp_path.parent / f"{tmp_path.name}-page-download"
    expected = random_file(source, 32 * MIB)
    try:
        with chromium_page() as page:
            log_in(page, daphne)
            page.goto(f"{daphne}{volume.get_absolute_url()}")
            page.get_by_label("Upload a file into this volume").set_input_files(str(source))
            page.get_by_role("button", name="Upload", exact=True).click()
            expect(page.get_by_role("status")).to_contain_text("Uploaded.", timeout=60_000)
            upload_bar = page.get_by_role("progressbar", name="Upload progress")
            expect(upload_bar).to_have_attribute("aria-valuenow", "100")
            with page.expect_download() as download_info:
                page.get_by_role("link", name="Download").click()
            download = download_info.value
            assert download.suggested_filename == "page.raw"
            download.save_as(saved)
            page.reload()
            expect(page.get_by_text("Last upload:")).to_contain_text("Succeeded")
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == expected
        assert virsh_sha256(lab, lab_pool, volume, tmp_path) == expected
    finally:
        source.unlink()
        saved.unlink(missing_ok=True)
