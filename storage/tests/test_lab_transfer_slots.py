"""The cap on concurrent transfers (storage/transfer_slots.py) through a real daphne process with
VIRTDECK_MAX_TRANSFERS=1 and the lab libvirtd: a second transfer is refused (503, Retry-After) before its
body is read, and the slot comes back after a success, a failure and a client that goes away midway.
Slots are counted by reading Redis directly (transfer_slots.running: one ZCOUNT)."""
import os
import socket

import pytest

from core.models import Job
from core.testing import daphne_process, eventually, redis_cleared
from core.tests.test_request_limits import read_response
from storage.transfer_slots import PREFIX, running

from .test_lab_storage import lab_pool, make_volume  # noqa: F401 - lab_pool is a fixture
from .test_lab_transfer import send_head, token, upload_url  # noqa: F401 - token is a fixture

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
MIB = 2**20


@pytest.fixture(autouse=True)
def no_slots():
    """No slot left from another test in this Redis."""
    with redis_cleared(PREFIX):
        yield


@pytest.fixture(scope="module")
def capped(django_db_setup, tmp_path_factory):
    """daphne allowing one transfer at a time; its port."""
    with daphne_process(tmp_path_factory.mktemp("daphne-capped"), env={"VIRTDECK_MAX_TRANSFERS": "1"}) as (base, _):
        yield int(base.rsplit(":", 1)[1])


def auth(token):
    return f"Authorization: Token {token}\r\n"


def download_head(volume, token):
    return (f"GET /api/storage/volumes/{volume.pk}/download/ HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth(token)}"
            "\r\n").encode()


def assert_busy(port, method, url, length, token):
    """A transfer refused for want of a slot, before its body: no "100 Continue", no job."""
    jobs = Job.objects.count()
    with send_head(port, method, url, length, auth(token) + "Expect: 100-continue\r\n") as sock:
        status, headers, body = read_response(sock)
    assert status == 503, body
    assert headers["retry-after"] == "10"  # a third of the 30 s lease
    assert b"VIRTDECK_MAX_TRANSFERS" in body and b"100 Continue" not in body
    assert Job.objects.count() == jobs


def upload_bytes(port, volume, data, token):
    with send_head(port, "PUT", upload_url(volume), len(data), auth(token)) as sock:
        sock.sendall(data)
        return read_response(sock)


def test_it_refuses_a_second_transfer_while_one_runs_and_lets_it_in_after_the_first_succeeds(
        api, capped, lab_pool, tmp_path, token):
    first = make_volume(api, lab_pool, "first.raw", "raw", "thin", capacity=16 * MIB)
    second = make_volume(api, lab_pool, "second.raw", "raw", "thin", capacity=16 * MIB)
    with send_head(capped, "PUT", upload_url(first), 16 * MIB, auth(token)) as sock:
        sock.sendall(b"\x01" * (8 * MIB))
        eventually(lambda: Job.objects.filter(kind="upload").exists(), timeout=30, message="the first upload's job")
        assert running() == 1

        assert_busy(capped, "PUT", upload_url(second), MIB, token)
        assert_busy(capped, "GET", f"/api/storage/volumes/{second.pk}/download/", 0, token)
        assert (tmp_path / "second.raw").stat().st_blocks == 0  # nothing written to it

        sock.sendall(b"\x01" * (8 * MIB))
        status, _, body = read_response(sock)
    assert status == 200, body
    assert running() == 0  # released before the answer
    status, _, body = upload_bytes(capped, second, b"\x02" * MIB, token)
    assert status == 200, body
    assert (tmp_path / "second.raw").read_bytes()[:MIB] == b"\x02" * MIB


def test_it_frees_the_slot_after_a_refused_upload(api, capped, lab_pool, token):
    tiny = make_volume(api, lab_pool, "tiny.raw", "raw", "thin", capacity=MIB)
    status, _, body = upload_bytes(capped, tiny, b"\x03" * (2 * MIB), token)
    assert status == 400 and b"resize it first" in body
    assert running() == 0
    status, _, body = upload_bytes(capped, tiny, b"\x03" * MIB, token)
    assert status == 200, body


def test_it_frees_the_slot_when_the_uploading_client_goes_away_midway(api, capped, lab_pool, token):
    volume = make_volume(api, lab_pool, "cut.raw", "raw", "thin", capacity=16 * MIB)
    sock = send_head(capped, "PUT", upload_url(volume), 16 * MIB, auth(token))
    sock.sendall(b"\x04" * MIB)
    eventually(lambda: Job.objects.filter(kind="upload").exists(), timeout=30, message="the upload's job")
    sock.close()
    eventually(lambda: Job.objects.filter(kind="upload", status="failed").exists(), timeout=60,
               message="the upload failing")
    eventually(lambda: running() == 0, timeout=30, message="the slot freed")
    status, _, body = upload_bytes(capped, volume, b"\x05" * MIB, token)
    assert status == 200, body


def test_it_frees_the_slot_when_the_downloading_client_goes_away_midway(api, capped, lab_pool, tmp_path, token):
    volume = make_volume(api, lab_pool, "read.raw", "raw", "thin", capacity=64 * MIB)
    with open(tmp_path / "read.raw", "r+b") as data:
        data.write(os.urandom(64 * MIB))  # not zeros: holes would travel as a length only
    sock = socket.create_connection(("127.0.0.1", capped), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(download_head(volume, token))
    assert sock.recv(64 * 1024).startswith(b"HTTP/1.1 200")
    assert running() == 1
    sock.close()  # after a few KiB of 64 MiB
    eventually(lambda: running() == 0, timeout=60, message="the slot freed")
    status, _, body = upload_bytes(capped, volume, b"\x06" * MIB, token)
    assert status == 200, body


def test_it_answers_head_without_taking_a_slot(api, capped, lab_pool, token):
    volume = make_volume(api, lab_pool, "head.raw", "raw", "thin", capacity=MIB)
    with send_head(capped, "PUT", upload_url(volume), MIB, auth(token)) as sock:
        sock.sendall(b"\x07" * 1024)  # holds the only slot
        eventually(lambda: running() == 1, timeout=30, message="the upload's slot")
        with send_head(capped, "HEAD", f"/api/storage/volumes/{volume.pk}/download/", 0, auth(token)) as head:
            status, headers, _ = read_response(head)
        assert (status, headers["content-length"]) == (200, str(MIB))
        sock.sendall(b"\x07" * (MIB - 1024))
        assert read_response(sock)[0] == 200
