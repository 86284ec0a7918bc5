"""The deployment files: docker-compose.yml validated by docker-compose, Dockerfile and
.dockerignore checked against the code they start.

No Docker engine is needed: `docker-compose config` only parses, interpolates and
validates. No database either: run alone with
`.venv/bin/python -m pytest core/tests/test_compose.py -p no:django -q`.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

SERVICES = {"web", "worker", "inventory-worker", "beat", "watcher", "migrate", "redis", "postgres"}
APP_SERVICES = {"web", "worker", "inventory-worker", "beat", "watcher"}
REQUIRED = {
    "VIRTDECK_SECRET_KEY": "dummy-secret-key",
    "VIRTDECK_ENCRYPTION_KEY": "dummy-encryption-key",
    "VIRTDECK_ALLOWED_HOSTS": "virtdeck.example.org",
    "POSTGRES_PASSWORD": "dummy-db-password",
}


def docker_compose():
    path = shutil.which("docker-compose") or "/usr/bin/docker-compose"
    if not Path(path).exists():
        pytest.fail("docker-compose not found: install Debian's package (apt-get install docker-compose)")
    return path


def compose_config(tmp_path, env, compose_file=COMPOSE_FILE, *extra):
    """Run `docker-compose config` with exactly `env` (no .env file, nothing inherited)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [docker_compose(), "--env-file", str(env_file), "-f", str(compose_file), "config", *extra],
        cwd=compose_file.parent,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def test_it_validates_the_compose_file(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED)
    assert code == 0, out
    for name in SERVICES:
        assert re.search(rf"^  {name}:$", out, re.M), f"service {name} missing from:\n{out}"


def test_it_has_exactly_the_expected_services(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED, COMPOSE_FILE, "--services")
    assert code == 0, out
    assert set(out.split()) == SERVICES


def test_it_interpolates_settings_into_every_app_service(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED)
    assert code == 0, out
    services = yaml.safe_load(out)["services"]
    for name in APP_SERVICES | {"migrate"}:
        env = services[name]["environment"]
        assert env["VIRTDECK_SECRET_KEY"] == "dummy-secret-key"
        assert env["VIRTDECK_ENCRYPTION_KEY"] == "dummy-encryption-key"
        assert env["VIRTDECK_ALLOWED_HOSTS"] == "virtdeck.example.org"
        assert env["DATABASE_URL"] == "postgres://virtdeck:dummy-db-password@postgres:5432/virtdeck"
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["VIRTDECK_STATE_DIR"] == "/var/lib/virtdeck"
        assert env["VIRTDECK_HTTPS"] == "1"
        assert "state:/var/lib/virtdeck" in " ".join(services[name]["volumes"])
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "dummy-db-password"


def test_it_keeps_the_test_driver_off_whatever_the_environment_says(tmp_path):
    code, out = compose_config(tmp_path, {**REQUIRED, "VIRTDECK_ALLOW_TEST_DRIVER": "1"})
    assert code == 0, out
    services = yaml.safe_load(out)["services"]
    for name in APP_SERVICES | {"migrate"}:
        assert services[name]["environment"]["VIRTDECK_ALLOW_TEST_DRIVER"] == "0"


def test_it_starts_app_services_after_migrate_and_healthy_backends(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED)
    assert code == 0, out
    services = yaml.safe_load(out)["services"]
    for name in APP_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert "healthcheck" in services["postgres"]
    assert services["postgres"]["image"] == "postgres:16-alpine"
    assert services["redis"]["image"] == "redis:7-alpine"


def test_it_runs_the_documented_commands(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED)
    assert code == 0, out
    services = yaml.safe_load(out)["services"]
    assert services["web"]["command"] == ["daphne", "-b", "0.0.0.0", "-p", "8000", "virtdeck.asgi:application"]
    assert services["worker"]["command"] == ["celery", "-A", "virtdeck", "worker", "-l", "info"]
    assert services["inventory-worker"]["command"] == [
        "celery", "-A", "virtdeck", "worker", "-l", "info", "-Q", "inventory", "--pool", "threads", "--concurrency", "8",
        "-n", "inventory@%h",
    ]
    assert services["beat"]["command"] == [
        "celery", "-A", "virtdeck", "beat", "-l", "info", "--schedule", "/var/lib/virtdeck/celerybeat-schedule"
    ]
    assert services["watcher"]["command"] == ["python", "manage.py", "watch_hosts"]


def test_it_checks_web_health_on_the_login_page(tmp_path):
    code, out = compose_config(tmp_path, REQUIRED)
    assert code == 0, out
    web = yaml.safe_load(out)["services"]["web"]
    test = web["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "/login/" in test[3] and "urllib" in test[3]
    compile(test[3], "healthcheck", "exec")  # the one-liner is valid Python
    # Published on loopback by default: only the local TLS proxy reaches daphne.
    assert web["ports"][0].startswith("127.0.0.1:8000:8000")


def test_it_rejects_an_unknown_key(tmp_path):
    text = COMPOSE_FILE.read_text()
    assert "\n    ports:\n" in text
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(text.replace("\n    ports:\n", "\n    portz:\n", 1))
    code, out = compose_config(tmp_path, REQUIRED, bad)
    assert code != 0, out
    assert "portz" in out


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_it_fails_clearly_without_a_required_setting(tmp_path, missing):
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    code, out = compose_config(tmp_path, env)
    assert code != 0, out
    # docker-compose echoes every template of the block; the error itself ends the message.
    assert re.search(rf'in service "[^"]+": set {missing}\b', out), out


def test_it_names_the_missing_secret_key(tmp_path):
    env = {k: v for k, v in REQUIRED.items() if k != "VIRTDECK_SECRET_KEY"}
    code, out = compose_config(tmp_path, env)
    assert code != 0
    assert re.search(r'": set VIRTDECK_SECRET_KEY in \.env \(see docs/deploy\.md\)$', out.strip()), out


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def test_it_points_the_dockerfile_at_modules_that_exist():
    instructions = dockerfile_instructions()
    cmd = [rest for word, rest in instructions if word == "CMD"]
    assert cmd == ['["daphne", "-b", "0.0.0.0", "-p", "8000", "virtdeck.asgi:application"]']
    assert (ROOT / "virtdeck" / "asgi.py").is_file()
    assert (ROOT / "virtdeck" / "celery.py").is_file()  # celery -A virtdeck
    assert (ROOT / "manage.py").is_file()
    assert list(ROOT.glob("*/management/commands/watch_hosts.py")), "no app provides manage.py watch_hosts"
    assert (ROOT / "requirements.txt").is_file()
    assert (ROOT / "package.json").is_file() and (ROOT / "package-lock.json").is_file()


def test_it_builds_in_stages_and_runs_unprivileged():
    instructions = dockerfile_instructions()
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert froms[0] == "node:20-slim AS vendor"
    assert froms[-1] == "python:3.11-slim-bookworm"
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "npm ci" in runs
    for source in ("node_modules/bootstrap/dist", "node_modules/bootstrap-icons/font", "node_modules/htmx.org/dist"):
        assert source in runs
    assert "libvirt-dev" in runs and "pkg-config" in runs and "gcc" in runs and "libvirt0" in runs
    assert "collectstatic --noinput" in runs
    # The build-time key is set for that RUN only, never as an ENV of the image.
    assert not any(word == "ENV" and "VIRTDECK_SECRET_KEY" in rest for word, rest in instructions)
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_it_keeps_local_state_and_secrets_out_of_the_build_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".env", ".venv", "var", "node_modules", "static/vendor"):
        assert entry in ignored, entry
