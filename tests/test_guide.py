"""The concepts guide page (/guide/): login required, English or Vietnamese by the active language, every
section's anchor present, nothing the strict CSP would block."""
import re

import pytest
from django.urls import reverse
from django.utils import translation

from guide import rendering
from tests.test_docs_concepts import GUIDES, section_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, django_user_model):
    """A plain user with no grants: the guide is for everyone who can log in."""
    client.force_login(django_user_model.objects.create_user("reader", password="not-used-here"))
    return client


def ids_of(language):
    return section_ids(GUIDES[language][0].read_text(encoding="utf-8"))


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get(reverse("guide:concepts"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_renders_the_english_guide_with_every_section_anchor(viewer):
    with translation.override("en"):
        response = viewer.get("/guide/")
    html = response.content.decode()
    assert response.status_code == 200
    for section in ids_of("en"):
        assert f'id="{section}"' in html, section
        assert f'href="#{section}"' in html, section  # the table of contents links it
    assert "Reproduce:" in html and "Tái hiện:" not in html
    assert 'lang="en"' in html


def test_it_renders_the_vietnamese_guide_when_the_language_is_vietnamese(viewer):
    with translation.override("vi"):
        response = viewer.get("/guide/", HTTP_ACCEPT_LANGUAGE="vi")
    html = response.content.decode()
    assert response.status_code == 200
    for section in ids_of("vi"):
        assert f'id="{section}"' in html, section
    assert "Tái hiện:" in html and "Reproduce:" not in html
    assert 'lang="vi"' in html


@pytest.mark.parametrize(("language", "expected"), [("en", "en"), ("en-us", "en"), ("vi", "vi"), ("fr", "en"),
                                                   ("", "en"), (None, "en")])
def test_it_picks_the_guide_of_the_language_or_english(language, expected):
    assert rendering.source(language)[0] == expected


@pytest.mark.parametrize("language", ["en", "vi"])
def test_it_renders_no_inline_style_or_script(language):
    guide = rendering.render(language)
    for html in (guide.html, guide.toc):
        assert not re.search(r"<script|\sstyle=|\son\w+=|javascript:", html, re.IGNORECASE)
    assert f'<table class="{rendering.TABLE_CLASS}">' in guide.html
    assert f'<pre class="{rendering.PRE_CLASS}">' in guide.html


def test_it_links_the_guide_from_the_main_navigation(viewer):
    html = viewer.get(reverse("dashboard:dashboard")).content.decode()
    assert f'href="{reverse("guide:concepts")}"' in html
