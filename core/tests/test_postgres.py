"""The suite's private PostgreSQL (virtdeck.daemons): started on a unix socket only, stopped by its own PID."""
import os
import shutil
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from virtdeck import daemons


@pytest.fixture
def data_dir():
    """A data directory beside the suite's (the server's user must reach it; pytest's tmp_path is root's 0700)."""
    path = Path(settings.STATE_DIR) / f"postgres-check-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    yield path
    daemons.stop_postgres(path)
    shutil.rmtree(path, ignore_errors=True)


def test_it_starts_postgresql_on_a_private_socket_and_stops_it_by_pid(data_dir):
    socket_dir, started = daemons.start_postgres(data_dir)
    assert started and socket_dir == data_dir
    pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    assert daemons.pid_alive(pid)
    with psycopg.connect(host=str(data_dir), user=daemons.POSTGRES_USER, dbname="postgres") as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)  # no TCP port at all
        assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 150000
    assert daemons.start_postgres(data_dir) == (data_dir, False)  # answering already: not started twice
    daemons.stop_postgres(data_dir)
    assert not daemons.pid_alive(pid) and not daemons.postgres_ping(data_dir)


@pytest.mark.django_db
def test_it_runs_on_the_database_the_run_asked_for():
    if os.environ.get("VIRTDECK_TEST_DATABASE") == "postgresql":
        assert connection.vendor == "postgresql"
        assert connection.settings_dict["HOST"] == str(settings.TEST_POSTGRES_DIR)
    else:
        assert connection.vendor == "sqlite"
