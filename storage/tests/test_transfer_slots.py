"""Transfer slots in the suite's Redis (storage/transfer_slots.py): the limits, the renewal, and a slot held by
a process that is killed coming free when its lease runs out (read from Redis directly)."""
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from core import health
from core.testing import eventually, redis_cleared
from storage.transfer_slots import ALL, PREFIX, TransfersBusy, acquire, running

HOST = 4242


@pytest.fixture(autouse=True)
def no_slots():
    with redis_cleared(PREFIX):
        yield


@override_settings(MAX_TRANSFERS=2, MAX_TRANSFERS_PER_HOST=1)
def test_it_caps_transfers_per_host_and_in_all_naming_the_setting():
    with acquire(HOST):
        with pytest.raises(TransfersBusy) as refused:
            acquire(HOST)
        assert "VIRTDECK_MAX_TRANSFERS_PER_HOST" in refused.value.message and refused.value.retry_after == 10
        with acquire(HOST + 1):
            with pytest.raises(TransfersBusy) as refused:
                acquire(HOST + 2)
            assert "2 volume transfers are running" in refused.value.message
            assert (running(), running(HOST), running(HOST + 2)) == (2, 1, 0)
    assert running() == 0
    acquire(HOST).release()


@override_settings(MAX_TRANSFERS=0, MAX_TRANSFERS_PER_HOST=0)
def test_it_takes_no_limit_from_zero():
    slots = [acquire(HOST) for _ in range(20)]
    assert running(HOST) == 20
    for slot in slots:
        slot.release()
    assert running() == 0


@override_settings(TRANSFER_LEASE_SECONDS=0.6)
def test_it_renews_a_slot_while_it_is_held():
    client = health.client()
    with acquire(HOST) as slot:
        first = client.zscore(ALL, slot.member)
        eventually(lambda: client.zscore(ALL, slot.member) > first, message="the lease renewed")
    assert client.zscore(ALL, slot.member) is None


@override_settings(MAX_TRANSFERS_PER_HOST=1)
def test_it_frees_the_slot_of_a_killed_process_when_its_lease_runs_out():
    holder = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup(); from storage.transfer_slots import acquire; "
                               f"acquire({HOST}); print('held', flush=True); import time; time.sleep(600)"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "virtdeck.test_settings", "REDIS_URL": settings.REDIS_URL,
             "VIRTDECK_TRANSFER_LEASE_SECONDS": "8"},
        stdout=subprocess.PIPE, text=True, cwd=settings.BASE_DIR)
    try:
        assert holder.stdout.readline() == "held\n"
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # no release, no renewal
        holder.wait()
    with pytest.raises(TransfersBusy):
        acquire(HOST)  # within its 8 s lease
    slot = eventually(lambda: _try_acquire(HOST), timeout=30, message="the dead process's slot expiring")
    slot.release()


def _try_acquire(host_id):
    try:
        return acquire(host_id)
    except TransfersBusy:
        return None


def test_it_refuses_transfers_clearly_when_redis_does_not_answer():
    with override_settings(REDIS_URL="unix:///nonexistent/redis.sock"), pytest.raises(TransfersBusy) as refused:
        acquire(HOST)
    assert "Redis" in refused.value.message
