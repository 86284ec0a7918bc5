"""On the real lab libvirtd: a pool made or stopped outside virtdeck shows in its rows through the watcher."""
import libvirt
import pytest

from core.testing import eventually
from storage.models import StoragePool
from virt.xml.storage import build_pool

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_it_follows_a_pool_made_and_stopped_outside_virtdeck(lab, lab_host, running_watcher, pool_names, tmp_path):
    name = pool_names()
    conn = libvirt.open(lab["uri"])
    try:
        pool = conn.storagePoolDefineXML(build_pool("dir", name, target_path=str(tmp_path)).to_xml(), 0)
        pool.create(0)
        # The watcher's catch-up sync may store the row first and read its volumes a moment later.
        row = eventually(lambda: StoragePool.objects.filter(host=lab_host, name=name, state="running",
                                                            volumes_synced_at__isnull=False).first(),
                         timeout=10, message="pool row and its volumes from the start event")
        assert row.target_path == str(tmp_path)
        pool.destroy()
        eventually(lambda: StoragePool.objects.filter(host=lab_host, name=name, state="inactive").exists(),
                   timeout=10, message="pool row from the stop event")
        pool.undefine()
        eventually(lambda: not StoragePool.objects.filter(host=lab_host, name=name).exists(),
                   timeout=10, message="pool row gone after undefine")
    finally:
        conn.close()
