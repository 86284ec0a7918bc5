import pytest

from storage.models import StoragePool, Volume


@pytest.fixture
def storage_host(make_host):
    """A host on core/testing/nodes/storage.xml, synced: pools images, iso, vg0, nfs-share and their volumes."""
    return make_host("storage")


@pytest.fixture
def images(storage_host):
    return StoragePool.objects.get(host=storage_host, name="images")


def volume(pool, name):
    return Volume.objects.get(pool=pool, name=name)
