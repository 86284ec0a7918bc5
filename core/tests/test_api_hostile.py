"""Token, jobs, schema and docs under bad and hostile input: a clear 4xx (never a 500), nothing changed, no secret shown."""
import json

import pytest
from rest_framework.authtoken.models import Token

from core.models import Job
from core.testing import PASSWORD

pytestmark = pytest.mark.django_db
TOKEN = "/api/auth/token/"
JOBS = "/api/jobs/"


def job_row(job):
    return Job.objects.filter(pk=job.pk).values().get()


@pytest.fixture
def jobs(make_host):
    host = make_host("small")
    return {status: Job.objects.create(kind="refresh_host", target_kind="host", target_id=str(host.pk),
                                       target_name=host.name, host=host, status=status, params={"host_id": host.pk})
            for status in ("queued", "running", "succeeded", "failed", "cancelled")}


# --- /api/auth/token/ --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("", "application/json"), ("[]", "application/json"),
     ('["admin", "x"]', "application/json"), ("null", "application/json"), ("42", "application/json"),
     ('"admin"', "application/json"), ('{"username": ["admin"], "password": {"a": 1}}', "application/json"),
     ('{"username": null, "password": null}', "application/json"), ('{"username": true, "password": false}',
                                                                    "application/json"),
     ('{"username": "admin"}', "application/json"), ('{"password": "x"}', "application/json"),
     ('{"username": "admin\\u0000", "password": "x"}', "application/json"),
     ('{"username": "admin", "password": "\\ud800"}', "application/json"),
     ('{"username": "\\udfff", "password": "x"}', "application/json"),
     ('{"username": "admin", "password": NaN}', "application/json"),
     (b'{"username": "\xff", "password": "x"}', "application/json"),
     ("username=admin&password=%00", "application/x-www-form-urlencoded"),
     ("username=%ff%fe&password=x", "application/x-www-form-urlencoded"),
     ("username=admin&username=root&password=x", "application/x-www-form-urlencoded"),
     ("", "application/x-www-form-urlencoded")],
    ids=lambda v: repr(v)[:40],
)
def test_it_refuses_a_bad_token_request_with_400(client, admin_user, body, content_type):
    response = client.post(TOKEN, body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert "token" not in response.json()
    assert not Token.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream", "text/csv"])
def test_it_refuses_token_bodies_it_cannot_parse_with_415(client, admin_user, content_type):
    response = client.post(TOKEN, json.dumps({"username": "admin", "password": PASSWORD}), content_type=content_type)
    assert response.status_code == 415
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin", "x" * 1024 * 1024), ("a" * 1024 * 1024, PASSWORD), ("admin' OR '1'='1", "' OR '1'='1"),
     ("admin", PASSWORD + "\x00"), ("ADMIN", PASSWORD), (" admin", PASSWORD + " x"), ("admin", PASSWORD.upper()),
     ("ウェブ", "🚀"), ("admin\u200b", PASSWORD)],
    ids=["huge-password", "huge-username", "sql", "nul", "case", "spaces", "upper", "unicode", "zero-width"],
)
def test_it_never_issues_a_token_for_wrong_credentials(client, admin_user, username, password):
    response = client.post(TOKEN, {"username": username, "password": password}, content_type="application/json")
    assert response.status_code == 400, response.status_code
    assert "token" not in response.json()
    assert password not in response.content.decode() or len(password) < 4
    assert not Token.objects.exists()


def test_it_ignores_unknown_fields_and_never_echoes_the_password(client, admin_user):
    response = client.post(TOKEN, {"username": "admin", "password": "wrong-Zq9", "is_superuser": True, "key": "x" * 40,
                                   "user": 1}, content_type="application/json")
    assert response.status_code == 400 and "wrong-Zq9" not in response.content.decode()
    good = client.post(TOKEN, {"username": "admin", "password": PASSWORD, "key": "chosen" * 6},
                       content_type="application/json")
    assert good.status_code == 200
    assert good.json() == {"token": Token.objects.get().key} and good.json()["token"] != "chosen" * 6
    assert PASSWORD not in good.content.decode()


def test_it_refuses_token_routes_for_other_methods(client, admin_user):
    for method in ("get", "put", "patch", "delete"):
        assert getattr(client, method)(TOKEN).status_code == 405
    assert not Token.objects.exists()




@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"username": "admin", "password": "x"}', "application/json; charset=zlib"),
     ('{"username": "admin", "password": "x"}', "application/json; charset=rot13"),
     ("username=admin&password=x", "application/x-www-form-urlencoded; charset=rot13"),
     ("username=admin&password=x", "application/x-www-form-urlencoded; charset=zlib")],
    ids=["json-zlib", "json-rot13", "form-rot13", "form-zlib"],
)
def test_it_refuses_a_token_body_in_a_charset_that_is_not_text(admin_user, body, content_type):
    from rest_framework.test import APIClient

    client = APIClient()  # sends the body as UTF-8 bytes whatever the charset (Django's client would encode it)
    client.raise_request_exception = False
    response = client.post(TOKEN, body, content_type=content_type)
    assert response.status_code in (400, 415), response.status_code
    assert not Token.objects.exists()


def test_it_refuses_a_deeply_nested_token_request(client, admin_user):
    response = client.post(TOKEN, '{"username":' * 50_000 + '"a"' + "}" * 50_000, content_type="application/json")
    assert response.status_code == 400
    assert not Token.objects.exists()


# --- authentication headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Token", "Token ", "Token a b", "Token not-a-token", "Bearer abc", "token",
                                    "Basic YWRtaW46Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ==", "Token \xe9\xe9",
                                    "Token " + "a" * 100_000, "Token \x00", "Token ' OR '1'='1", "Token %00"],
                         ids=lambda h: repr(h)[:30])
@pytest.mark.parametrize("url", [JOBS, "/api/hosts/", "/api/instances/", "/api/schema/", "/api/docs/"])
def test_it_refuses_malformed_or_wrong_tokens(client, admin_user, header, url):
    Token.objects.create(user=admin_user)
    response = client.get(url, HTTP_AUTHORIZATION=header)
    assert response.status_code in (401, 403), (url, header[:20], response.status_code)


# --- /api/jobs/ --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"status": "bogus"}, {"status": ["queued", "bogus"]}, {"status": "\x00"}, {"host": "abc"}, {"host": "-1"},
     {"host": "0"}, {"host": "1.5"}, {"host": "99999999999999999999"}, {"host": "9223372036854775808"},
     {"host": "\x00"}, {"target_kind": "bogus"}, {"target_kind": "host' OR '1'='1"}, {"kind": "\x00"},
     {"target_id": "1\x00"}],
    ids=lambda p: repr(p)[:50],
)
def test_it_refuses_bad_job_filters(api, jobs, params):
    response = api.get(JOBS, params)
    assert response.status_code == 400, response.content
    assert set(response.json()) & set(params)


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"kind": "' OR '1'='1"}, 0), ({"kind": "%"}, 0), ({"kind": "refresh%"}, 0), ({"kind": "REFRESH_HOST"}, 0),
     ({"target_id": "' OR 1=1 --"}, 0), ({"target_id": "a" * 100_000}, 0), ({"kind": "k" * 100_000}, 0),
     ({"kind": "ウェブ🚀"}, 0), ({"status": ["queued", "running"]}, 2), ({"limit": "-1"}, 5), ({"limit": "abc"}, 5),
     ({"offset": "-1"}, 5), ({"offset": "9" * 30}, 0), ({"unknown": "x"}, 5), ({"params__host_id": "1"}, 5),
     ({"user__password": "x"}, 5), ({"limit": str(2 ** 63 - 1)}, 5)],
    ids=lambda p: repr(p)[:40],
)
def test_it_matches_job_filters_exactly(api, jobs, params, expected):
    response = api.get(JOBS, params)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected




@pytest.mark.parametrize("limit", [str(2 ** 63), "9" * 30])
def test_it_answers_a_huge_job_limit_with_a_page(api, jobs, limit):
    api.raise_request_exception = False
    response = api.get(JOBS, {"limit": limit})
    assert response.status_code in (200, 400), response.status_code


@pytest.mark.parametrize("ordering", ["user__password", "-user__password", "params", "log", "error", "worker",
                                      "params__host_id", "celery_task_id", "created;DROP TABLE core_job", "?", "--id"])
def test_it_never_sorts_jobs_by_a_field_it_does_not_offer(api, jobs, ordering):
    default = [j["id"] for j in api.get(JOBS).json()["results"]]
    response = api.get(JOBS, {"ordering": ordering})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert [j["id"] for j in response.json()["results"]] == default


BAD_IDS = ["abc", "0", "-1", "1.5", "1e3", "99999999999999999999", "9223372036854775808", "%00", "%20",
           "' OR '1'='1", "..%2F..%2Fetc"]


@pytest.mark.parametrize("pk", BAD_IDS)
def test_it_answers_404_for_ids_that_are_not_jobs(api, jobs, pk):
    before = list(Job.objects.order_by("pk").values())
    assert api.get(f"{JOBS}{pk}/").status_code == 404
    assert api.post(f"{JOBS}{pk}/cancel/").status_code == 404
    assert list(Job.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_it_refuses_to_cancel_a_finished_job_and_changes_nothing(api, jobs, status):
    job = jobs[status]
    before = job_row(job)
    response = api.post(f"{JOBS}{job.pk}/cancel/")
    assert response.status_code == 409
    assert status in response.json()["detail"]
    assert job_row(job) == before


def test_it_cancels_once_whatever_the_body(api, jobs):
    job = jobs["queued"]
    first = api.post(f"{JOBS}{job.pk}/cancel/", "[1, 2]", content_type="application/json")
    assert first.status_code == 202 and first.json()["status"] == "cancelled"
    again = api.post(f"{JOBS}{job.pk}/cancel/", "garbage", content_type="text/plain")
    assert again.status_code == 409


def test_it_ignores_fields_sent_with_a_cancel(api, jobs):
    job = jobs["running"]
    response = api.post(f"{JOBS}{job.pk}/cancel/", {"status": "succeeded", "progress": 100, "result": {"x": 1},
                                                    "params": {"evil": 1}, "cancel_requested": False}, format="json")
    assert response.status_code == 202
    job.refresh_from_db()
    assert job.status == "running" and job.cancel_requested is True
    assert job.params == {"host_id": job.host_id} and job.result == {} and job.progress == 0


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_never_writes_jobs_through_other_methods(api, jobs, method):
    job = jobs["queued"]
    before = list(Job.objects.order_by("pk").values())
    body = {"kind": "evil", "status": "succeeded", "params": {"password": "x"}}
    for url in (JOBS, f"{JOBS}{job.pk}/"):
        assert getattr(api, method)(url, body, format="json").status_code == 405
    if method != "post":
        assert getattr(api, method)(f"{JOBS}{job.pk}/cancel/", body, format="json").status_code == 405
    assert list(Job.objects.order_by("pk").values()) == before


def test_it_needs_a_login_to_cancel(client, jobs):
    job = jobs["queued"]
    before = job_row(job)
    assert client.post(f"{JOBS}{job.pk}/cancel/").status_code == 401
    assert job_row(job) == before


# --- /api/schema/ and /api/docs/ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?format=json", "?format=yaml", "?lang=xx", "?lang=%00", "?lang=../../etc/passwd",
                                   "?lang=" + "a" * 5000, "?version=evil", "?format=yaml&lang=de"])
def test_it_serves_the_schema_whatever_the_query(api, query):
    response = api.get(f"/api/schema/{query}")
    assert response.status_code == 200, (query, response.status_code)
    assert b"/api/hosts/" in response.content


@pytest.mark.parametrize("query", ["?format=xml", "?format=html", "?format=%00", "?format=" + "a" * 5000])
def test_it_answers_404_for_a_schema_format_it_does_not_have(api, query):
    response = api.get(f"/api/schema/{query}")
    assert response.status_code == 404, (query, response.status_code)


def test_it_answers_406_for_an_accept_header_it_cannot_meet(api):
    assert api.get("/api/schema/", HTTP_ACCEPT="application/xml").status_code == 406
    assert api.get(JOBS, HTTP_ACCEPT="image/png").status_code == 406


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_writes_to_the_schema_and_docs(api, method):
    for url in ("/api/schema/", "/api/docs/"):
        assert getattr(api, method)(url, {"openapi": "evil"}, format="json").status_code == 405


@pytest.mark.parametrize("query", ["", "?lang=%00", "?url=javascript:alert(1)", "?configUrl=http://127.0.0.1:1/x",
                                   "?x=%3Cscript%3Ealert(1)%3C/script%3E"])
def test_it_serves_the_docs_without_reflecting_the_query(api, query):
    response = api.get(f"/api/docs/{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html and "javascript:alert(1)" not in html


def test_it_keeps_the_schema_and_docs_behind_a_login(client):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)


def test_it_documents_the_secret_flags_as_booleans(api):
    """has_password & co. are booleans in every answer; the schema must say so (schemathesis found it said string)."""
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    props = schema["components"]["schemas"]["Host"]["properties"]
    assert {props[f]["type"] for f in ("has_password", "has_ssh_private_key", "has_tls_client_key")} == {"boolean"}
    for secret in ("password", "ssh_private_key", "tls_client_key"):
        assert props[secret].get("writeOnly") is True
