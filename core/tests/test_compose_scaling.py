"""docker-compose.yml scales as docs/scaling.md says: web, workers and watchers run as many copies as asked.

Like test_compose.py, `docker-compose config` only parses and validates: no Docker engine.
"""
import yaml

from core.tests.test_compose import REQUIRED, compose_config

SCALABLE = ("web", "worker", "inventory-worker", "watcher")


def services(tmp_path, **env):
    code, out = compose_config(tmp_path, {**REQUIRED, **env})
    assert code == 0, out
    return yaml.safe_load(out)["services"]


def test_it_names_no_container_of_a_service_that_scales(tmp_path):
    for name, service in services(tmp_path).items():
        if name in SCALABLE:
            assert "container_name" not in service, name  # a fixed name allows one copy only
            if name != "web":  # web publishes VIRTDECK_PORT, a range when scaled (below)
                assert "ports" not in service, name


def test_it_publishes_a_port_range_for_several_web_processes(tmp_path):
    web = services(tmp_path, VIRTDECK_PORT="8000-8002")["web"]
    assert web["ports"] == ["127.0.0.1:8000-8002:8000/tcp"]  # one host port per copy, all on loopback


def test_it_runs_the_sharing_watcher_command(tmp_path):
    assert services(tmp_path)["watcher"]["command"] == ["python", "manage.py", "watch_hosts"]
