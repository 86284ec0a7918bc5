"""The audit log: every mutating request from pages and the API, and every finished job; secrets redacted;
append-only; filters, CSV and JSON for admins only."""
import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AppendOnly, AuditEntry
from audit.redact import redact
from core import jobs
from core.models import Job
from core.tasks import wait_job

pytestmark = pytest.mark.django_db


def test_it_records_an_api_write_with_who_where_what_and_the_secrets_redacted(api, admin_user):
    response = api.post("/api/hosts/", {"name": "kvm9", "uri": "test:///default", "password": "hunter2",
                                        "ssh_private_key": "-----BEGIN KEY-----"}, format="json")
    entry = AuditEntry.objects.get()
    assert (entry.username, entry.source, entry.method, entry.action) == (
        admin_user.username, "api", "POST", "api-hosts:host-list")
    assert entry.status == response.status_code and entry.address == "127.0.0.1"
    assert entry.params["name"] == "kvm9" and entry.params["password"] == "[redacted]"
    assert "hunter2" not in json.dumps(entry.params) and "BEGIN KEY" not in json.dumps(entry.params)


def test_it_records_page_actions_refusals_and_reads_nothing(admin_client, make_host):
    host = make_host("small")
    admin_client.get(reverse("hosts:host_list"))
    admin_client.post(reverse("hosts:host_refresh", args=[host.pk]))
    admin_client.post("/hosts/999999/refresh/")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.source, e.action, e.target, e.result) for e in entries] == [
        ("page", "hosts:host_refresh", f"hosts:{host.pk}", "ok"),
        ("page", "hosts:host_refresh", "hosts:999999", "refused")]
    assert entries[0].job_id == Job.objects.get().pk


def test_it_records_the_token_user_of_an_api_call(admin_user, make_host):
    from rest_framework.test import APIClient

    from accounts.models import ApiToken

    host = make_host("small")
    _token, secret = ApiToken.issue(admin_user, "script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    client.post(f"/api/hosts/{host.pk}/refresh/")
    entry = AuditEntry.objects.get()
    assert entry.username == admin_user.username and entry.job_id is not None
    assert secret not in json.dumps(entry.params)


def test_it_records_anonymous_and_csrf_refusals_too(client, admin_user):
    client.post("/api/hosts/", {"name": "x"})
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    strict.post("/api/hosts/", {"name": "y"})
    assert [(e.username, e.result, e.status) for e in AuditEntry.objects.order_by("pk")] == [
        ("", "refused", 401), (admin_user.username, "refused", 403)]


def test_it_records_how_a_job_ended(admin_user):
    job = jobs.enqueue(wait_job, user=admin_user, seconds=0, steps=1)
    wait_job.run(job.pk, seconds=0, steps=1)
    entry = AuditEntry.objects.get(source="job")
    assert (entry.action, entry.result, entry.job_id, entry.username) == (
        f"job:{job.kind}", "ok", job.pk, admin_user.username)


def test_it_is_append_only(api):
    api.post("/api/hosts/", {"name": "x"}, format="json")
    entry = AuditEntry.objects.get()
    entry.detail = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.update(detail="x")
    assert api.delete(f"/api/audit/{entry.pk}/").status_code == 405
    assert api.patch(f"/api/audit/{entry.pk}/", {"detail": "x"}, format="json").status_code == 405


def test_it_redacts_secret_names_and_xml_passwords():
    assert redact({"passwd": "a", "vnc": {"password": "b"}, "api_token": "c", "tls_client_key": "d", "ok": 1}) == {
        "passwd": "[redacted]", "vnc": {"password": "[redacted]"}, "api_token": "[redacted]",
        "tls_client_key": "[redacted]", "ok": 1}
    xml = "<graphics type='vnc' passwd='s3cret' listen='127.0.0.1'/>"
    assert "s3cret" not in redact({"xml": xml})["xml"] and "listen='127.0.0.1'" in redact({"xml": xml})["xml"]
    assert len(redact({"xml": "x" * 10_000})["xml"]) < 2100


def test_it_filters_and_exports_for_admins_only(api, admin_client, member, client):
    api.post("/api/hosts/", {"name": "one"}, format="json")
    api.post("/api/tokens/", {"name": "t1"}, format="json")
    body = api.get("/api/audit/", {"action": "token"}).json()
    assert [row["action"] for row in body["results"]] == ["api-accounts:token-list"]
    exported = api.get("/api/audit/export/csv/")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0][:3] == ["time", "username", "address"] and len(rows) == 3
    assert len(api.get("/api/audit/export/json/").json()) == 2
    assert [row["action"] for row in api.get("/api/audit/export/json/", {"action": "token"}).json()] == [
        "api-accounts:token-list"]  # the list's filters
    page = admin_client.get(reverse("audit:auditentry_list"), {"result": "ok"})
    assert page.status_code == 200 and 'id="audit"' in page.content.decode()
    client.force_login(member)
    assert client.get(reverse("audit:auditentry_list")).status_code == 403
    assert client.get("/api/audit/").status_code == 403
    assert Client().get("/api/audit/").status_code == 401


def test_it_logs_hostile_bodies_by_shape_without_failing(api):
    api.post("/api/hosts/", "[" * 50_000 + "]" * 50_000, content_type="application/json")
    api.post("/api/hosts/", {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}}, format="json")
    first, second = AuditEntry.objects.order_by("pk")
    assert "nested too deeply" in first.params["body"]
    assert "[nested]" in json.dumps(second.params)
