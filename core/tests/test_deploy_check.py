"""`manage.py check --deploy` passes with the production settings docs/deploy.md describes: its `.env` example,
passed through docker-compose.yml's environment, exactly as the stack would start. No database is needed."""
import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# ${VAR}, ${VAR:-default} and ${VAR:?message}, as Compose interpolates them.
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def documented_env_file():
    """The `.env` of docs/deploy.md (the block with "# required"), its "..." secrets generated here."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "docs" / "deploy.md").read_text(), re.DOTALL)
    block = next(b for b in blocks if "# required" in b)
    values = dict(line.split("=", 1) for line in block.splitlines() if re.match(r"^[A-Z_]+=", line))
    generated = {
        "VIRTDECK_SECRET_KEY": secrets.token_urlsafe(50),
        "VIRTDECK_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
    }
    return {name: generated.get(name, value) if value == "..." else value for name, value in values.items()}


def production_environment(env_file):
    """docker-compose.yml's environment of the virtdeck services, interpolated from `env_file`."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    def interpolate(value):
        def one(match):
            name, operator, rest = match.groups()
            if name in env_file and env_file[name] != "":
                return env_file[name]
            assert operator != ":?", f"{name} is required by docker-compose.yml but missing in docs/deploy.md"
            return rest or ""
        return COMPOSE_VARIABLE.sub(one, str(value))

    return {name: interpolate(value) for name, value in compose["x-virtdeck-env"].items()}


def check_deploy(tmp_path, **changes):
    env = production_environment(documented_env_file() | changes)
    env["VIRTDECK_STATE_DIR"] = str(tmp_path)  # /var/lib/virtdeck is the container's
    env["VIRTDECK_STATIC_ROOT"] = str(tmp_path / "static")
    env |= {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "virtdeck.settings"}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_it_reads_the_documented_production_settings():
    env = production_environment(documented_env_file())
    assert env["VIRTDECK_HTTPS"] == "1" and env["VIRTDECK_DEBUG"] == "0"
    assert env["VIRTDECK_ALLOWED_HOSTS"] == "virtdeck.example.org"
    assert env["DATABASE_URL"].startswith("postgres://virtdeck:")
    assert len(env["VIRTDECK_SECRET_KEY"]) >= 50


def test_it_passes_the_deployment_check_with_the_documented_settings(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout + result.stderr


def test_it_fails_the_deployment_check_without_https(tmp_path):
    result = check_deploy(tmp_path, VIRTDECK_HTTPS="0")  # proof that the check above can fail
    assert result.returncode != 0
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE
    assert "security.W004" in result.stderr  # HSTS
