"""CPU time is what libvirt means by it, or nothing.

libvirt's test driver reports the time of day (~1.8e18 ns, "1,796,000,000 s") as a
running domain's cpuTime: virtdeck stores and shows none for test-driver VMs.
"""
import re
import time

import libvirt
import pytest
from django.urls import reverse

from hosts.sync import sync_host
from instances import inventory as instance_inventory
from instances.models import Instance
from virt import inventory

pytestmark = pytest.mark.django_db


def test_it_reads_no_cpu_time_from_the_test_driver():
    conn = libvirt.open("test:///default")
    try:
        running = conn.lookupByName("test")
        assert running.info()[4] / 1e9 == pytest.approx(time.time(), abs=3600)  # what libvirt reports
        by_name = {r["name"]: r for r in inventory.collect(conn)}
        assert by_name["test"]["state"] == "running" and by_name["test"]["cpu_time_ns"] is None
        first = {r["uuid"].lower(): r for r in inventory.collect(conn)}
        assert inventory.collect(conn, first)[0]["cpu_time_ns"] is None  # nor from the previous sync
        assert inventory.collect_one(conn, running.UUIDString())["cpu_time_ns"] is None  # nor after an event
    finally:
        conn.close()


def test_it_shows_no_cpu_time_for_test_driver_vms(api, admin_client, make_host):
    host = make_host("small")
    web1 = Instance.objects.get(host=host, name="web1")
    assert web1.state == "running" and web1.cpu_time_ns is None
    assert Instance.objects.get(host=host, name="db1").cpu_time_ns == 0  # shut off
    assert api.get(f"/api/instances/{web1.pk}/").json()["cpu_time_ns"] is None
    detail = admin_client.get(web1.get_absolute_url()).content.decode()
    assert re.search(r"CPU time</dt>\s*<dd[^>]*>—</dd>", detail)
    for page in (detail, admin_client.get(reverse("instances:instance_list")).content.decode()):
        assert not re.search(r"\d,\d{3},\d{3},\d{3}\.\d s", page)  # never the time of day as seconds


def test_it_clears_a_time_of_day_stored_before(make_host):
    host = make_host("small")
    Instance.objects.filter(host=host, name="web1").update(cpu_time_ns=time.time_ns())  # an older sync's value
    instance_inventory.refresh_one(host, "11111111-1111-4111-8111-111111111111")
    assert Instance.objects.get(host=host, name="web1").cpu_time_ns is None
    Instance.objects.filter(host=host, name="web1").update(cpu_time_ns=time.time_ns())
    sync_host(host)
    assert Instance.objects.get(host=host, name="web1").cpu_time_ns is None
