"""Database settings: no persistent connections (Django's advice under ASGI), whatever the database."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_disables_persistent_connections_for_postgresql(tmp_path):
    env = {**os.environ, "DATABASE_URL": "postgres://virtdeck:secret@db:5432/virtdeck",
           "VIRTDECK_STATE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from virtdeck import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "0"
