import uuid

import libvirt
import pytest

from storage.models import StoragePool, Volume
from virt.tests.test_lab_storage import remove_pool


@pytest.fixture
def storage_host(make_host):
    """A host on core/testing/nodes/storage.xml, synced: pools images, iso, vg0, nfs-share and their volumes."""
    return make_host("storage")


@pytest.fixture
def images(storage_host):
    return StoragePool.objects.get(host=storage_host, name="images")


def volume(pool, name):
    return Volume.objects.get(pool=pool, name=name)


@pytest.fixture
def lab_host(lab, make_host):
    return make_host("lab", uri=lab["uri"])


@pytest.fixture
def pool_names(lab):
    """Names for pools this test makes; each is removed (volumes, definition) at the end."""
    made = []
    yield lambda: made.append(f"vd-test-{uuid.uuid4().hex[:8]}") or made[-1]
    conn = libvirt.open(lab["uri"])
    for name in made:
        remove_pool(conn, name)
    conn.close()
