"""Data migrations of instances, run forwards and backwards on rows written by the older schema."""
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD, NEW = ("instances", "0002_cpu_time_unknown"), ("instances", "0003_state_slugs")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture
def back_to_latest(transactional_db):
    """Whatever the test leaves, the next test finds the database fully migrated."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_it_turns_stored_state_names_into_slugs_and_back(back_to_latest):
    apps = migrate(OLD)
    host = apps.get_model("hosts", "Host").objects.create(name="old", uri="test:///default")
    Instance = apps.get_model("instances", "Instance")
    spellings = ["running", "blocked", "paused", "shutting down", "shut off", "crashed", "suspended", "no state"]
    for state in spellings:
        Instance.objects.create(host=host, uuid=uuid.uuid4(), name=state, state=state)

    Instance = migrate(NEW).get_model("instances", "Instance")
    assert dict(Instance.objects.values_list("name", "state")) == {
        "running": "running", "blocked": "blocked", "paused": "paused", "shutting down": "shutdown",
        "shut off": "shutoff", "crashed": "crashed", "suspended": "pmsuspended", "no state": "nostate"}

    Instance = migrate(OLD).get_model("instances", "Instance")
    assert dict(Instance.objects.values_list("name", "state")) == {s: s for s in spellings}
