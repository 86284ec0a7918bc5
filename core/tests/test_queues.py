"""Celery queues: inventory syncs and the reaper on their own queue and worker, jobs on the default one."""
import importlib.util
from pathlib import Path

import pytest

from virtdeck.celery import app

ROOT = Path(__file__).resolve().parents[2]


def queue_of(task_name):
    return app.amqp.router.route({}, task_name, (), {})["queue"].name


@pytest.mark.parametrize("task", ["hosts.tasks.sync_host", "hosts.tasks.sync_all_hosts", "core.tasks.reap_lost_jobs",
                                  "metrics.tasks.sample_host", "metrics.tasks.sample_all_hosts"])
def test_it_routes_short_periodic_tasks_to_the_inventory_queue(task):
    assert queue_of(task) == "inventory"


def test_it_has_beat_sample_the_metrics_every_interval(settings):
    """The sampler is a beat task (issue 12), every VIRTDECK_METRICS_INTERVAL seconds."""
    schedule = app.conf.beat_schedule.values()
    entry = next(entry for entry in schedule if entry["task"] == "metrics.tasks.sample_all_hosts")
    assert entry["schedule"] == settings.CELERY_BEAT_SCHEDULE["sample-metrics"]["schedule"] > 0


@pytest.mark.parametrize("task", ["core.tasks.wait", "hosts.tasks.refresh_host"])
def test_it_keeps_jobs_on_the_default_queue(task):
    assert queue_of(task) == "celery"


def test_it_runs_a_worker_for_each_queue_in_make_run(tmp_path):
    spec = importlib.util.spec_from_file_location("virtdeck_run_script", ROOT / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    commands = dict(run.commands(tmp_path, pid=4242))
    assert {"web", "worker", "inventory", "beat", "watcher"} == set(commands)
    jobs_worker, inventory_worker = commands["worker"], commands["inventory"]
    assert "-Q" not in jobs_worker and "worker-4242@%h" in jobs_worker  # the default queue
    queue = inventory_worker[inventory_worker.index("-Q") + 1]
    assert queue == "inventory" and "inventory-4242@%h" in inventory_worker
    assert inventory_worker[inventory_worker.index("--pool") + 1] == "threads"  # a hung host holds up no other
