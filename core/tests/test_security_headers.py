"""Every answer carries the security headers, and no template holds a script the CSP would have to allow."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from core.tests.test_auth import ROUTES

PAGES = [path for _, path in ROUTES if not path.startswith("/api/")]
API = [path for _, path in ROUTES if path.startswith("/api/")]


def csp_directives(response):
    policy = response.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_security_headers(response):
    where = (response.status_code, response.get("Content-Type"))
    csp = csp_directives(response)
    assert csp.get("script-src") == ["'self'"], (where, csp)
    assert csp.get("default-src") == ["'self'"] and csp.get("object-src") == ["'none'"], where
    assert csp.get("frame-ancestors") == ["'none'"] and csp.get("base-uri") == ["'none'"], where
    assert response.get("X-Frame-Options") == "DENY", where
    assert response.get("X-Content-Type-Options") == "nosniff", where
    assert response.get("Referrer-Policy") == "same-origin", where
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin", where


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_it_sends_the_security_headers_with_every_page(admin_client, client, path):
    assert_security_headers(admin_client.get(path))
    assert_security_headers(client.get(path))  # the redirect to the login page too


@pytest.mark.django_db
@pytest.mark.parametrize("path", API)
def test_it_sends_the_security_headers_with_every_api_answer(client, admin_user, path):
    token = Token.objects.create(user=admin_user)
    assert_security_headers(client.get(path, HTTP_AUTHORIZATION=f"Token {token.key}"))
    assert_security_headers(client.get(path))  # refusals too


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/no/such/page/", "/static/js/live.js", "/admin/login/"])
def test_it_sends_the_security_headers_with_public_answers(client, path):
    assert_security_headers(client.get(path))


@pytest.mark.django_db
def test_it_serves_the_api_docs_script_as_a_file_not_inline(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert re.search(r'<script src="[^"]*\?script=?"', page)
    assert admin_client.get("/api/docs/?script").status_code == 200


# What the policy (script-src 'self', no eval) would block: an inline script, an on…= handler, a javascript:
# URL, htmx's hx-on (run through eval). <script type="application/json"> (json_script) is data, not code.
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_CODE = re.compile(r"""\son[a-z]+\s*=|hx-on|javascript:|hx-vals=["']js:|hx-vars""", re.IGNORECASE)


def project_templates():
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates") if p.is_dir()]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_it_finds_the_templates():
    names = {path.name for path in project_templates()}
    assert {"base.html", "network_form.html", "_instance_console.html"} <= names


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_it_keeps_scripts_out_of_templates(template):
    text = template.read_text()
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        assert "src=" in attributes or 'type="application/json"' in attributes, (template, match.group(0))
    assert not INLINE_CODE.search(text), (template, INLINE_CODE.search(text).group(0))
