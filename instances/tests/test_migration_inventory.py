"""The row of a migrating VM against the inventory's sync and events: it moves, keeping its pk, and
nothing deletes or duplicates it on the way (instances/migration.py, instances/inventory.py)."""
import pytest
from django.utils import timezone

from core.models import Job
from instances import inventory, migration
from instances.models import Instance
from instances.tests import records_of

pytestmark = pytest.mark.django_db

WEB1 = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def moving(make_host):
    """web1 on `source`, a migration job to `target` running."""
    source, target = make_host("small"), make_host("empty", host_name="target")
    row = Instance.objects.get(host=source, uuid=WEB1)
    job = Job.objects.create(kind=migration.JOB_KIND, target_kind="instance", target_id=str(row.pk),
                             status=Job.Status.RUNNING)
    return source, target, row, job


def test_it_keeps_the_row_when_the_source_stops_listing_it_mid_migration(moving):
    source, _target, row, _job = moving
    listing = [r for r in records_of(source) if r["uuid"] != WEB1]  # undefined on the source already
    inventory.apply_records(source, listing)
    inventory.apply_record(source, WEB1, None)  # and its "undefined" event
    assert Instance.objects.filter(pk=row.pk, host=source).exists()


def test_it_deletes_the_row_of_a_vanished_vm_that_is_not_migrating(moving):
    source, _target, row, job = moving
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    inventory.apply_records(source, [r for r in records_of(source) if r["uuid"] != WEB1])
    assert not Instance.objects.filter(pk=row.pk).exists()


def test_it_moves_the_row_over_the_one_the_targets_sync_inserted_meanwhile(moving):
    source, target, row, _job = moving
    incoming = {**next(r for r in records_of(source) if r["uuid"] == WEB1), "state": "paused"}
    inventory.apply_records(target, [incoming])  # the target lists the incoming (paused) VM
    assert Instance.objects.filter(uuid=WEB1).count() == 2

    assert migration.move_instance(row.pk, source, target)
    moved = Instance.objects.get(uuid=WEB1)
    assert moved.pk == row.pk and moved.host == target
    assert not migration.move_instance(row.pk, source, target)  # once only


def test_it_leaves_the_moved_row_alone_in_a_source_sync_that_began_before_the_move(moving):
    source, target, row, job = moving
    sync_started = timezone.now()
    existing = inventory.current_rows(source)  # still lists web1 on the source
    migration.move_instance(row.pk, source, target)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    inventory.apply_records(source, [r for r in records_of(source) if r["uuid"] != WEB1], existing,
                            sync_started=sync_started)
    inventory.apply_records(target, [{**records_of(target)[0], "state": "running"}])
    moved = Instance.objects.get(uuid=WEB1)
    assert moved.pk == row.pk and moved.host == target and moved.state == "running"
