"""Upload and download routes on the test driver: every refusal comes before a byte is read and leaves no job;
libvirt's test driver has no volume streams, so a transfer itself fails there (clearly, as a failed job).
The transfers themselves are tested on the lab (test_lab_transfer.py)."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from core.models import Job

from .conftest import volume

pytestmark = pytest.mark.django_db
GIB = 2**30


def upload(api, target, body=b"virtdeck", **extra):
    return api.put(reverse("api-storage:volume-upload", args=[target.pk]), body,
                   content_type="application/octet-stream", **extra)


def test_it_refuses_an_upload_into_a_running_vms_disk_naming_the_vm(api, images):
    response = upload(api, volume(images, "web1.qcow2"))
    assert response.status_code == 409 and "web1" in response.json()["detail"]
    assert not Job.objects.exists()


def test_it_refuses_more_bytes_than_a_raw_volume_holds(api, images):
    response = upload(api, volume(images, "thick.raw"), CONTENT_LENGTH=str(3 * GIB))
    assert response.status_code == 400 and "resize it first" in response.json()["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("length", ["", "12abc", "-1"])
def test_it_refuses_an_upload_without_a_valid_content_length(api, images, length):
    response = upload(api, volume(images, "thin.raw"), CONTENT_LENGTH=length)
    assert response.status_code == 400 and "Content-Length" in response.json()["detail"]
    assert not Job.objects.exists()


def test_it_refuses_a_read_only_token_and_anonymous_callers(admin_user, images):
    target = volume(images, "thin.raw")
    client = APIClient()
    assert upload(client, target).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(admin_user, 'ro', read_only=True)[1]}")
    response = upload(client, target)
    assert response.status_code == 403 and response.json()["detail"] == "This token is read-only."
    assert not Job.objects.exists()


def test_it_answers_404_for_an_unknown_volume(api, images):
    response = api.put(reverse("api-storage:volume-upload", args=[999999]), b"x",
                       content_type="application/octet-stream")
    assert response.status_code == 404


def test_it_records_a_failed_job_when_the_host_cannot_stream(api, images):
    response = upload(api, volume(images, "thin.raw"))
    assert response.status_code == 400 and "not supported" in response.json()["detail"]
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.status, job.target_name) == ("upload", "failed", "thin.raw")
    assert any("the volume is unchanged" in entry["message"] for entry in job.log)


def test_it_documents_both_routes_in_the_schema(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    upload_route = paths["/api/storage/volumes/{id}/upload/"]["put"]
    assert "application/octet-stream" in upload_route["requestBody"]["content"]
    download_route = paths["/api/storage/volumes/{id}/download/"]["get"]
    assert "application/octet-stream" in download_route["responses"]["200"]["content"]


def test_it_says_when_the_host_cannot_stream_a_download(api, images):
    response = api.get(reverse("api-storage:volume-download", args=[volume(images, "thin.raw").pk]))
    assert response.status_code == 400 and "not supported" in response.json()["detail"]


def test_it_shows_the_upload_form_and_download_link_on_the_volume_page(admin_client, images):
    target = volume(images, "thin.raw")
    page = admin_client.get(target.get_absolute_url()).content.decode()
    assert reverse("api-storage:volume-upload", args=[target.pk]) in page
    assert reverse("api-storage:volume-download", args=[target.pk]) in page


def qcow2_header(size=GIB, version=3, backing_offset=0, incompatible=0):
    """The first 104 bytes of a qcow2 image (as qemu-img writes them; what check_image reads)."""
    import struct

    header = struct.pack(">4sIQIIQ", b"QFI\xfb", version, backing_offset, 0, 16, size)
    header += bytes(72 - len(header)) + struct.pack(">QQQII", incompatible, 0, 0, 4, 104)
    return header + bytes(512 - len(header))


@pytest.mark.parametrize("name, body, says", [
    ("base.qcow2", b"\x00" * 4096, "this is not a qcow2 image"),
    ("base.qcow2", b"QFI\xfb", "too short for a qcow2 image"),
    ("base.qcow2", qcow2_header(backing_offset=512), "has a backing file"),
    ("base.qcow2", qcow2_header(incompatible=1 << 2), "external file"),
    ("base.qcow2", qcow2_header(version=9), "qcow2 version 9"),
    ("base.qcow2", qcow2_header(size=2**62), "virtual size in the qcow2 header"),
    ("thin.raw", qcow2_header(), "this is a qcow2 image and the volume is raw"),
])
def test_it_refuses_an_image_of_another_format_before_writing_it(api, images, name, body, says):
    response = upload(api, volume(images, name), body)
    assert response.status_code == 400, response.content
    assert says in response.json()["detail"] and response.json()["body"] == [response.json()["detail"]]
    assert not Job.objects.exists()
