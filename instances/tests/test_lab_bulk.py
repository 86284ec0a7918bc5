"""A bulk force off on the lab's real libvirtd + QEMU (TCG): the host's VMs found in one listing, the action on
each, then one stats call for those done (virt.batch.each, virt.inventory.collect_some). Read back through
libvirt directly."""
import libvirt
import pytest

from instances.inventory import refresh_one
from instances.models import Instance

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


def test_it_forces_off_a_persistent_and_a_transient_vm_and_forgets_the_transient_one(api, lab_host, lab_guests):
    persistent = lab_guests.define(start=True)
    transient = lab_guests.define(start=True)
    transient.undefine()  # running without a definition: force off makes it disappear
    ids = [refresh_one(lab_host, dom.UUIDString()).pk for dom in (persistent, transient)]
    assert Instance.objects.get(pk=ids[1]).persistent is False

    body = api.post("/api/instances/bulk/", {"action": "destroy", "ids": ids}, format="json").json()

    assert [(r["ok"], r["state"]) for r in body["results"]] == [(True, "shutoff"), (True, None)]
    assert persistent.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    left = {dom.UUIDString() for dom in lab_guests.conn.listAllDomains(0)}
    assert persistent.UUIDString() in left and transient.UUIDString() not in left
    assert Instance.objects.get(pk=ids[0]).state == "shutoff" and not Instance.objects.filter(pk=ids[1]).exists()
