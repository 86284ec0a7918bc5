"""A request for a host name not in ALLOWED_HOSTS: 400 and one log line, not a traceback per request."""
import urllib.error
import urllib.request

import pytest

from core.testing import daphne_process, eventually

pytestmark = pytest.mark.django_db(transaction=True)


def status_for_host(base, host, path):
    request = urllib.request.Request(f"{base}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_it_answers_400_with_one_log_line_per_bad_host(tmp_path):
    with daphne_process(tmp_path) as (base, daphne):
        paths = ["/", "/api/hosts/", "/login/"]
        assert [status_for_host(base, "evil.example", path) for path in paths] == [400, 400, 400]
        assert status_for_host(base, "127.0.0.1", "/login/") == 200
        eventually(lambda: daphne.output().count('"GET /login/" 200'), message="the good request logged")
        log = daphne.output()
    assert log.count("Invalid HTTP_HOST header: 'evil.example'") == len(paths), log
    assert "Traceback" not in log, log
