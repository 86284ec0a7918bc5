"""Uploading images into qcow2 and raw volumes on the lab libvirtd (storage/transfer.py, virt.streams.check_image):
what is accepted, what is refused before a byte is written, and what the volume looks like afterwards, checked
with qemu-img run directly on the pool's files."""
import json
import os
import subprocess

import pytest

from core.models import Job
from core.testing import file_sha256
from storage.models import Volume

from .test_lab_storage import lab_pool, make_volume  # noqa: F401 - lab_pool is a fixture
from .test_lab_transfer import put_file, server, token, upload_url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
MIB = 2**20


def qemu_img(*args):
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True).stdout


def info(path):
    return json.loads(qemu_img("info", "--output=json", str(path)))


def qcow2_image(path, size, data_mib, scratch):
    """A qcow2 image of `size` virtual bytes whose first `data_mib` MiB are random."""
    raw = scratch / f"{path.name}.raw"
    with open(raw, "wb") as out:
        out.truncate(size)
        out.write(os.urandom(data_mib * MIB))
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(raw), str(path))
    raw.unlink()
    return path


@pytest.fixture
def scratch(tmp_path):
    """A directory outside the pool's (tmp_path is the pool)."""
    path = tmp_path.parent / f"{tmp_path.name}-images"
    path.mkdir()
    return path


def put(server, token, volume, path):
    return put_file(server[0], upload_url(volume), path, {"Authorization": f"Token {token}"})


def test_it_replaces_a_qcow2_volume_with_a_smaller_image_leaving_nothing_of_the_old_one(
        api, lab_pool, scratch, server, tmp_path, token):
    volume = make_volume(api, lab_pool, "disk.qcow2", "qcow2", "thin", capacity=64 * MIB)
    big = qcow2_image(scratch / "big.qcow2", 64 * MIB, 32, scratch)
    status, body = put(server, token, volume, big)
    assert status == 200, body
    assert qemu_img("compare", str(big), str(tmp_path / "disk.qcow2")).startswith("Images are identical")

    small = qcow2_image(scratch / "small.qcow2", 16 * MIB, 1, scratch)
    status, body = put(server, token, volume, small)
    assert status == 200, body
    stored = tmp_path / "disk.qcow2"
    assert qemu_img("compare", str(small), str(stored)).startswith("Images are identical")
    assert "No errors were found" in qemu_img("check", str(stored))
    assert info(stored)["virtual-size"] == 16 * MIB  # the capacity the uploaded header gives
    assert stored.stat().st_size == small.stat().st_size and file_sha256(stored) == file_sha256(small)  # no old tail
    job = Job.objects.filter(kind="upload").first()
    assert any("made anew" in entry["message"] for entry in job.log)
    volume = Volume.objects.get(pk=volume.pk)  # same row, re-read from the host
    assert (volume.format, volume.capacity) == ("qcow2", 16 * MIB)


def test_it_refuses_raw_bytes_into_a_qcow2_volume_before_writing(api, lab_pool, scratch, server, tmp_path, token):
    volume = make_volume(api, lab_pool, "kept.qcow2", "qcow2", "thin", capacity=16 * MIB)
    before = file_sha256(tmp_path / "kept.qcow2")
    raw = scratch / "disk.raw"
    raw.write_bytes(os.urandom(MIB))
    status, body = put(server, token, volume, raw)
    assert status == 400 and b"not a qcow2 image" in body
    assert file_sha256(tmp_path / "kept.qcow2") == before and info(tmp_path / "kept.qcow2")["format"] == "qcow2"
    assert not Job.objects.filter(kind="upload").exists()


def test_it_refuses_a_qcow2_image_with_a_backing_file(api, lab_pool, scratch, server, tmp_path, token):
    volume = make_volume(api, lab_pool, "kept.qcow2", "qcow2", "thin", capacity=16 * MIB)
    before = file_sha256(tmp_path / "kept.qcow2")
    overlay = scratch / "overlay.qcow2"
    qemu_img("create", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname", "-u", str(overlay), "16M")
    status, body = put(server, token, volume, overlay)
    assert status == 400 and b"backing file" in body
    assert file_sha256(tmp_path / "kept.qcow2") == before
    assert not Job.objects.filter(kind="upload").exists()


def test_it_refuses_a_qcow2_image_into_a_raw_volume(api, lab_pool, scratch, server, tmp_path, token):
    volume = make_volume(api, lab_pool, "kept.raw", "raw", "thin", capacity=16 * MIB)
    image = qcow2_image(scratch / "image.qcow2", 8 * MIB, 1, scratch)
    status, body = put(server, token, volume, image)
    assert status == 400 and b"volume is raw" in body
    assert (tmp_path / "kept.raw").stat().st_blocks == 0 and info(tmp_path / "kept.raw")["format"] == "raw"
    assert not Job.objects.filter(kind="upload").exists()
