"""Settings for the test suite: the same settings, with their own state directory.

Tests own var/test/ (database, Redis socket, credentials), so a running
`make run` (var/) and the suite never share a queue or a database.
"""
import os
from pathlib import Path
from urllib.parse import quote

os.environ.setdefault("VIRTDECK_STATE_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("VIRTDECK_JOB_HEARTBEAT_TIMEOUT", "6")
os.environ.setdefault("VIRTDECK_LIBVIRT_TIMEOUT", "5")
os.environ.setdefault("VIRTDECK_LIBVIRT_CONNECT_TIMEOUT", "2")
os.environ.setdefault("VIRTDECK_ALLOW_TEST_DRIVER", "1")  # most tests run on libvirt's test driver

# VIRTDECK_TEST_DATABASE=postgresql: the suite's own PostgreSQL (unix socket in STATE_DIR/postgres, started by
# conftest.py like Redis) instead of SQLite. An explicit DATABASE_URL (an app process of a test) wins.
TEST_POSTGRES_DIR = Path(os.environ["VIRTDECK_STATE_DIR"]) / "postgres"
if os.environ.get("VIRTDECK_TEST_DATABASE") == "postgresql":
    os.environ.setdefault("DATABASE_URL", f"postgres://virtdeck@{quote(str(TEST_POSTGRES_DIR), safe='')}/virtdeck")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
