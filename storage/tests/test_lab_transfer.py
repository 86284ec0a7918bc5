"""Volume upload and download through a real daphne process into the lab libvirtd, checked outside virtdeck
(sha256 of `virsh vol-download`, the file in the pool's directory) and with the server's peak memory.

HTTP/1.1 is spoken over raw sockets where the test must control what is sent and when (a body cut short,
headers without a body).
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from core.jobs import request_cancel
from core.models import Job
from core.testing import daphne_process, eventually, file_sha256, random_file
from core.tests.test_request_limits import peak_rss_kib, read_response

from .test_lab_storage import lab_pool, make_volume, virsh  # noqa: F401 - lab_pool is a fixture

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
MIB = 2**20
SIZE = 320 * MIB


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    with daphne_process(tmp_path_factory.mktemp("daphne")) as (base, service):
        yield int(base.rsplit(":", 1)[1]), service


@pytest.fixture
def token(admin_user):
    return ApiToken.issue(admin_user, "transfer tests")[1]


def virsh_sha256(lab, pool, volume, tmp_path):
    copy = tmp_path / "virsh-download"
    virsh(lab, "vol-download", "--pool", pool.name, volume.name, str(copy))
    digest = file_sha256(copy)
    copy.unlink()
    return digest


def upload_url(volume):
    return reverse("api-storage:volume-upload", args=[volume.pk])


def put_file(port, url, path, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300, blocksize=MIB)
    with open(path, "rb") as body:
        connection.request("PUT", url, body=body,
                           headers={"Content-Length": str(os.path.getsize(path)), **headers})
        response = connection.getresponse()
        return response.status, response.read()


def send_head(port, method, url, length, headers=""):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"{method} {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n{headers}\r\n".encode())
    return sock


def test_it_uploads_and_downloads_320_mib_byte_identical_with_bounded_memory(api, lab, lab_pool, server, token,
                                                                            tmp_path):
    port, service = server
    volume = make_volume(api, lab_pool, "big.raw", "raw", "thin", capacity=SIZE)
    source = tmp_path.parent / f"{tmp_path.name}-source"  # outside the pool's directory
    expected = random_file(source, SIZE)
    try:
        before = peak_rss_kib(service.pid)
        status, body = put_file(port, upload_url(volume), source, {"Authorization": f"Token {token}"})
        grown_mb = (peak_rss_kib(service.pid) - before) / 1024
        print(f"daphne's peak RSS grew by {grown_mb:.1f} MB uploading {SIZE // MIB} MiB")
        assert status == 200, body
        job = Job.objects.get(kind="upload", target_id=str(volume.pk))
        assert (job.status, job.progress, job.result["bytes"], job.user.username) == ("succeeded", 100, SIZE, "admin")
        assert virsh_sha256(lab, lab_pool, volume, tmp_path) == expected
        assert grown_mb < 50  # a buffered body would cost several times its size

        before = peak_rss_kib(service.pid)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.request("GET", reverse("api-storage:volume-download", args=[volume.pk]),
                           headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == str(SIZE)
        assert response.getheader("Content-Disposition") == 'attachment; filename="big.raw"'
        digest = hashlib.sha256()
        while block := response.read(MIB):
            digest.update(block)
        grown_mb = (peak_rss_kib(service.pid) - before) / 1024
        print(f"daphne's peak RSS grew by {grown_mb:.1f} MB downloading {SIZE // MIB} MiB")
        assert digest.hexdigest() == expected
        assert grown_mb < 50
    finally:
        source.unlink()


def test_it_uploads_with_a_session_and_its_csrf_token_and_refuses_it_without(admin_user, api, lab, lab_pool, server,
                                                                             tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "small.raw", "raw", "thin", capacity=16 * MIB)
    browser = Client()
    browser.force_login(admin_user)
    browser.get("/")  # sets the CSRF cookie, as the volume page does
    session, csrf = browser.cookies["sessionid"].value, browser.cookies["csrftoken"].value
    source = tmp_path.parent / f"{tmp_path.name}-small"
    expected = random_file(source, 16 * MIB)
    try:
        status, body = put_file(port, upload_url(volume), source, {"Cookie": f"sessionid={session}"})
        assert status == 403 and b"CSRF" in body
        assert not Job.objects.filter(kind="upload").exists()
        status, body = put_file(port, upload_url(volume), source, {
            "Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf,
            "Origin": f"http://127.0.0.1:{port}", "Referer": f"http://127.0.0.1:{port}/"})
        assert status == 200, body
        assert virsh_sha256(lab, lab_pool, volume, tmp_path) == expected
    finally:
        source.unlink()


@pytest.mark.parametrize("who, code", [("nobody", 401), ("read-only token", 403)])
def test_it_refuses_an_upload_without_write_rights_before_reading_its_body(admin_user, api, lab_pool, server, who,
                                                                          code, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "kept.raw", "raw", "thin", capacity=16 * MIB)
    (tmp_path / "kept.raw").write_bytes(b"kept" * (4 * MIB))
    auth = ""
    if who == "read-only token":
        auth = f"Authorization: Token {ApiToken.issue(admin_user, 'ro', read_only=True)[1]}\r\n"
    with send_head(port, "PUT", upload_url(volume), 16 * MIB, auth + "Expect: 100-continue\r\n") as sock:
        status, _, body = read_response(sock)  # no "100 Continue" first: the body is never asked for
    assert status == code, body
    assert (tmp_path / "kept.raw").read_bytes() == b"kept" * (4 * MIB)
    assert not Job.objects.filter(kind="upload").exists()


def test_it_refuses_more_bytes_than_the_volume_holds_before_reading_them(api, lab_pool, server, token, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "tiny.raw", "raw", "thin", capacity=MIB)
    with send_head(port, "PUT", upload_url(volume), 2 * MIB,
                   f"Authorization: Token {token}\r\nExpect: 100-continue\r\n") as sock:
        status, _, body = read_response(sock)
    assert status == 400 and b"resize it first" in body
    assert os.path.getsize(tmp_path / "tiny.raw") == MIB and (tmp_path / "tiny.raw").stat().st_blocks == 0
    assert not Job.objects.filter(kind="upload").exists()


def test_it_fails_the_job_clearly_when_the_client_stops_half_way(api, lab_pool, server, token, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "cut.raw", "raw", "thin", capacity=64 * MIB)
    sock = send_head(port, "PUT", upload_url(volume), 64 * MIB, f"Authorization: Token {token}\r\n")
    sock.sendall(b"\xab" * (8 * MIB))  # then the client goes away
    job = eventually(lambda: Job.objects.filter(kind="upload").first(), timeout=30, message="the upload job")
    sock.close()
    job = eventually(lambda: Job.objects.filter(pk=job.pk, status="failed").first(), timeout=60,
                     message="the upload job failing")
    assert "stopped sending after" in job.error and "of 67108864 bytes" in job.error
    assert any("partial upload" in entry["message"] for entry in job.log)
    written = (tmp_path / "cut.raw").read_bytes()
    assert len(written) == 64 * MIB and written[:MIB] == b"\xab" * MIB  # clearly failed, not unchanged


def test_it_refuses_an_upload_into_a_running_vms_disk(api, lab_pool, lab_guests, server, token, tmp_path):
    port, _ = server
    dom = lab_guests.define(start=True)  # its disk is tmp_path/<name>.qcow2: a volume of the pool
    api.post(reverse("api-storage:storagepool-refresh", args=[lab_pool.pk]))
    disk = lab_pool.volumes.get(name=f"{dom.name()}.qcow2")
    before = hashlib.sha256((tmp_path / disk.name).read_bytes()).hexdigest()
    headers = f"Authorization: Token {token}\r\nExpect: 100-continue\r\n"
    with send_head(port, "PUT", upload_url(disk), MIB, headers) as sock:
        status, _, body = read_response(sock)
    assert status == 409 and dom.name().encode() in body
    assert hashlib.sha256((tmp_path / disk.name).read_bytes()).hexdigest() == before


def test_it_cancels_an_upload_mid_way_and_answers_409(api, lab_pool, server, token, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "cancelled.raw", "raw", "thin", capacity=64 * MIB)
    with send_head(port, "PUT", upload_url(volume), 64 * MIB, f"Authorization: Token {token}\r\n") as sock:
        sock.sendall(b"\x01" * (8 * MIB))
        job = eventually(lambda: Job.objects.filter(kind="upload").first(), timeout=30, message="the upload job")
        assert request_cancel(job)
        status, _, body = read_response(sock)  # the rest of the body is never sent
    assert status == 409, body
    assert json.loads(body) == {"detail": "The upload was cancelled.", "job": job.pk}
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_it_takes_curls_upload_and_download_as_the_api_guide_writes_them(api, lab, lab_pool, server, token,
                                                                           tmp_path):
    """docs/api.md's `curl -T FILE .../upload/` (curl appends FILE's name to a URL that ends in "/", and asks
    `Expect: 100-continue`) and `curl -OJ .../download/` (the file named by Content-Disposition)."""
    port, _ = server
    volume = make_volume(api, lab_pool, "curl.raw", "raw", "thin", capacity=16 * MIB)
    work = tmp_path.parent / f"{tmp_path.name}-curl"  # outside the pool's directory
    work.mkdir()
    source = work / "image.raw"
    random_file(source, 16 * MIB)
    try:
        base = f"http://127.0.0.1:{port}"
        upload = subprocess.run(["curl", "-sS", "--fail-with-body", "-H", f"Authorization: Token {token}",
                                 "-T", str(source), base + upload_url(volume)],
                                capture_output=True, text=True, timeout=120)
        assert upload.returncode == 0, upload.stdout + upload.stderr
        assert json.loads(upload.stdout)["status"] == "succeeded"
        assert virsh_sha256(lab, lab_pool, volume, tmp_path) == file_sha256(source)
        download = subprocess.run(["curl", "-sS", "--fail", "-H", f"Authorization: Token {token}", "-OJ",
                                   base + reverse("api-storage:volume-download", args=[volume.pk])],
                                  cwd=work, capture_output=True, text=True, timeout=120)
        assert download.returncode == 0, download.stderr
        assert file_sha256(work / "curl.raw") == file_sha256(source)
    finally:
        shutil.rmtree(work)


def test_it_writes_only_the_announced_length_of_a_longer_body(api, lab, lab_pool, server, token, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "exact.raw", "raw", "thin", capacity=4 * MIB)
    with send_head(port, "PUT", upload_url(volume), MIB, f"Authorization: Token {token}\r\n") as sock:
        sock.sendall(b"\x07" * MIB + b"\x09" * MIB)  # a second MiB the headers did not announce
        status, _, body = read_response(sock)
    assert status == 200, body
    written = (tmp_path / "exact.raw").read_bytes()
    assert written == b"\x07" * MIB + bytes(3 * MIB)


def test_it_refuses_a_chunked_upload_naming_content_length(api, lab_pool, server, token):
    port, _ = server
    volume = make_volume(api, lab_pool, "chunked.raw", "raw", "thin", capacity=MIB)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    with sock:
        sock.sendall(f"PUT {upload_url(volume)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nabcd\r\n0\r\n\r\n".encode())
        status, _, body = read_response(sock)
    assert status == 400 and b"Content-Length" in body
    assert not Job.objects.filter(kind="upload").exists()


def test_it_keeps_zeros_as_holes_uploading_into_a_new_volume(api, lab, lab_pool, server, token, tmp_path):
    port, _ = server
    volume = make_volume(api, lab_pool, "sparse.raw", "raw", "thin", capacity=64 * MIB)
    source = tmp_path.parent / f"{tmp_path.name}-sparse"
    with open(source, "wb") as data:
        data.write(b"\x05" * MIB)
        data.seek(63 * MIB)
        data.write(b"\x06" * MIB)  # 62 MiB of zeros between
    try:
        status, body = put_file(port, upload_url(volume), source, {"Authorization": f"Token {token}"})
        assert status == 200, body
        assert json.loads(body)["result"]["sparse"] is True
        stored = tmp_path / "sparse.raw"
        assert stored.read_bytes() == source.read_bytes()
        assert stored.stat().st_blocks * 512 <= 4 * MIB  # the zeros were not written
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.request("GET", reverse("api-storage:volume-download", args=[volume.pk]),
                           headers={"Authorization": f"Token {token}"})
        assert connection.getresponse().read() == source.read_bytes()  # its hole came back as zeros
    finally:
        source.unlink()


def test_it_streams_a_download_to_a_slow_reader_without_queueing_it(api, lab_pool, server, token, tmp_path):
    port, service = server
    volume = make_volume(api, lab_pool, "slow.raw", "raw", "thin", capacity=128 * MIB)
    with open(tmp_path / "slow.raw", "r+b") as data, open("/dev/urandom", "rb") as noise:
        data.write(noise.read(128 * MIB))  # not zeros: holes would travel as a length only
    before = peak_rss_kib(service.pid)
    sock = socket.create_connection(("127.0.0.1", port), timeout=300)  # the shared lab can stall a while
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    with sock:
        sock.sendall(f"GET {reverse('api-storage:volume-download', args=[volume.pk])} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nAuthorization: Token {token}\r\n\r\n".encode())
        received = 0
        while chunk := sock.recv(64 * 1024):
            received += len(chunk)
            if received < 32 * MIB:
                time.sleep(0.005)  # a slow reader for the first quarter: the server must wait, not queue
    grown_mb = (peak_rss_kib(service.pid) - before) / 1024
    print(f"daphne's peak RSS grew by {grown_mb:.1f} MB serving 128 MiB to a slow reader")
    assert received > 128 * MIB  # headers and the whole body
    assert grown_mb < 50


def test_it_answers_head_with_the_length_and_no_body(api, lab_pool, server, token):
    port, _ = server
    volume = make_volume(api, lab_pool, "head.raw", "raw", "thin", capacity=3 * MIB)
    with send_head(port, "HEAD", reverse("api-storage:volume-download", args=[volume.pk]), 0,
                   f"Authorization: Token {token}\r\n") as sock:
        status, headers, body = read_response(sock)
    assert (status, headers["content-length"], body) == (200, str(3 * MIB), b"")


def test_it_drops_a_client_that_stops_sending_and_fails_the_job(api, lab_pool, token, tmp_path):
    volume = make_volume(api, lab_pool, "idle.raw", "raw", "thin", capacity=8 * MIB)
    logs = tmp_path.parent / f"{tmp_path.name}-daphne"  # outside the pool's directory
    logs.mkdir()
    with daphne_process(logs, env={"VIRTDECK_STREAMED_IDLE_SECONDS": "2"}) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        with send_head(port, "PUT", upload_url(volume), 8 * MIB, f"Authorization: Token {token}\r\n") as sock:
            sock.sendall(b"\x02" * MIB)  # then nothing: the server closes the connection
            assert sock.recv(1) == b""
        job = eventually(lambda: Job.objects.filter(kind="upload", status="failed").first(), timeout=30,
                         message="the upload job failing")
    assert "stopped sending after 1048576 of 8388608 bytes" in job.error


def test_it_closes_a_download_whose_reader_is_slow_at_the_end(api, lab_pool, server, token, tmp_path):
    """The server's last writes pause the channel (its send buffer is full) just before it closes: the close
    must still come once the reader has taken everything (it was lost, 1 run in 5, as a 300 s stall)."""
    port, _ = server
    volume = make_volume(api, lab_pool, "tail.raw", "raw", "thin", capacity=16 * MIB)
    with open(tmp_path / "tail.raw", "r+b") as data:
        data.write(os.urandom(16 * MIB))
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    received = 0
    with sock:
        sock.sendall(f"GET {reverse('api-storage:volume-download', args=[volume.pk])} HTTP/1.1\r\n"
                     f"Host: 127.0.0.1\r\nAuthorization: Token {token}\r\n\r\n".encode())
        try:
            while chunk := sock.recv(64 * 1024):
                received += len(chunk)
                if received > 12 * MIB:
                    time.sleep(0.01)  # slow for the last MiBs, while the server finishes
        except TimeoutError:
            pytest.fail(f"no end of the response after {received} bytes: the server did not close the connection")
    assert received > 16 * MIB  # headers and the whole body


def test_it_round_trips_through_the_reactor_when_direct_io_is_off(api, lab, lab_pool, token, tmp_path):
    """The way a TLS connection goes (settings.STREAMED_DIRECT_IO off): every piece through Twisted's buffers,
    with the same flow control and the same bytes."""
    volume = make_volume(api, lab_pool, "reactor.raw", "raw", "thin", capacity=48 * MIB)
    logs = tmp_path.parent / f"{tmp_path.name}-daphne"
    logs.mkdir()
    source = tmp_path.parent / f"{tmp_path.name}-source"
    expected = random_file(source, 48 * MIB)
    try:
        with daphne_process(logs, env={"VIRTDECK_STREAMED_DIRECT_IO": "0"}) as (base, _):
            port = int(base.rsplit(":", 1)[1])
            status, body = put_file(port, upload_url(volume), source, {"Authorization": f"Token {token}"})
            assert status == 200, body
            assert virsh_sha256(lab, lab_pool, volume, tmp_path) == expected
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request("GET", reverse("api-storage:volume-download", args=[volume.pk]),
                               headers={"Authorization": f"Token {token}"})
            response = connection.getresponse()
            digest = hashlib.sha256()
            while block := response.read(MIB):
                digest.update(block)
            assert (response.status, digest.hexdigest()) == (200, expected)
    finally:
        source.unlink()
