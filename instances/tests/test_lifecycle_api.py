"""POST /api/instances/{id}/<action>/ on libvirt's test driver: each action, its state guard, the row re-read."""
import libvirt
import pytest

from core.testing import node_uri
from instances.models import Instance

pytestmark = pytest.mark.django_db


def url(vm, action):
    return f"/api/instances/{vm.pk}/{action}/"


def libvirt_state(vm):
    """The domain's state read from libvirt directly (a connection of our own to the same node file)."""
    conn = libvirt.open(node_uri("small"))
    try:
        return conn.lookupByUUIDString(str(vm.uuid)).state()[0]
    finally:
        conn.close()


def test_smoke(api, make_host):
    make_host("small")
    web1 = Instance.objects.get(name="web1")
    r = api.post(url(web1, "suspend"))
    print(r.status_code, r.json())
    r = api.post(url(web1, "suspend"))
    print(r.status_code, r.json())
    r = api.post(url(web1, "resume"))
    print(r.status_code, r.json()["state"])
    r = api.post(url(web1, "shutdown"))
    print(r.status_code, r.json()["state"])
    r = api.post(url(web1, "start"))
    print(r.status_code, r.json()["state"])
    r = api.patch(f"/api/instances/{web1.pk}/", {"vcpus": 4, "memory_mib": 1024}, format="json")
    print(r.status_code, r.json())
    r = api.post("/api/instances/bulk/", {"action": "destroy", "ids": [web1.pk, 9999]}, format="json")
    print(r.status_code, r.json())
    r = api.patch(f"/api/instances/{web1.pk}/", {"name": "db1"}, format="json")
    print(r.status_code, r.json())
    r = api.patch(f"/api/instances/{web1.pk}/", {"name": "a/b", "x": 1}, format="json")
    print(r.status_code, r.json())
    r = api.delete(f"/api/instances/{web1.pk}/?delete_volumes=true")
    print(r.status_code, r.json())
