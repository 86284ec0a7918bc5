"""The generic pages, action routes and template pieces (core/generic.py, core/actions.py, core/api/views.py)
with actions that fail on purpose: a clear message or status, never a 500, nothing half done."""
import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

from core.actions import CANCEL_JOB, Action
from core.generic import bound_actions
from core.models import Job
from core.testing.views import DeleteViewTests
from virt.errors import OperationInvalid

from .generic_urls import NOT_NOW, TOUCH

pytestmark = pytest.mark.django_db
USE_TEST_URLS = pytest.mark.urls("core.tests.generic_urls")


@pytest.fixture
def job():
    return Job.objects.create(kind="clone", target_kind="instance", target_name="web1")


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@USE_TEST_URLS
def test_it_turns_a_service_error_into_a_message_and_goes_back(admin_client, job):
    response = admin_client.post(f"/generic-test/jobs/{job.pk}/unreachable/", {"next": "/jobs/"})
    assert response.status_code == 302 and response["Location"] == "/jobs/"
    assert messages_of(response) == [
        ("error", f"Poke of {job} failed: unable to connect to server at '127.0.0.1:1': Connection refused")]
    assert admin_client.get("/jobs/").content.decode().count("Connection refused") == 1  # shown once, then gone


@USE_TEST_URLS
def test_it_refuses_an_action_the_state_does_not_allow(admin_client, api, job):
    response = admin_client.post(f"/generic-test/jobs/{job.pk}/not_now/")
    assert response["Location"] == job.get_absolute_url()
    assert messages_of(response) == [("error", f"Wait of {job} failed: Wait is not possible for {job} in its "
                                               "current state.")]
    assert api.post(f"/api/generic-test/jobs/{job.pk}/not_now/").status_code == 409
    job.refresh_from_db()
    assert job.progress == 0


@USE_TEST_URLS
def test_it_maps_a_service_error_once_in_the_api(api, job):
    response = api.post(f"/api/generic-test/jobs/{job.pk}/unreachable/")
    assert response.status_code == 503
    assert response.json() == {"detail": "unable to connect to server at '127.0.0.1:1': Connection refused",
                               "error": "HostUnreachable"}


@USE_TEST_URLS
def test_it_answers_a_short_action_with_the_object_as_it_is_now(admin_client, api, job):
    response = api.post(f"/api/generic-test/jobs/{job.pk}/touch/")
    assert response.status_code == 200 and response.json()["progress"] == 55
    page = admin_client.post(f"/generic-test/jobs/{job.pk}/touch/", follow=True)
    assert ("success", f"Touched {job}.") in [(m.level_tag, m.message) for m in page.context["messages"]]


@USE_TEST_URLS
def test_it_goes_on_to_the_job_of_a_long_action_that_shows_it(admin_client, api, admin_user, job):
    response = admin_client.post(f"/generic-test/jobs/{job.pk}/wait/", {"next": "/jobs/"})
    started = Job.objects.get(kind="wait")
    assert response["Location"] == started.get_absolute_url()
    assert messages_of(response) == [("success", f"Wait a second of {job} started: job #{started.pk}.")]
    assert (started.user, started.target_id, started.params) == (admin_user, str(job.pk), {"seconds": 1})
    answer = api.post(f"/api/generic-test/jobs/{job.pk}/wait/")
    assert answer.status_code == 202 and answer["Location"].endswith(f"/api/jobs/{answer.json()['id']}/")


@USE_TEST_URLS
def test_it_sends_htmx_an_error_as_a_redirect_too(admin_client, job):
    response = admin_client.post(f"/generic-test/jobs/{job.pk}/unreachable/", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == job.get_absolute_url()


@USE_TEST_URLS
def test_it_keeps_the_object_when_its_delete_fails(admin_client, job):
    response = admin_client.post(f"/generic-test/jobs/{job.pk}/refused-delete/")
    assert response.status_code == 200
    assert "Connection refused" in response.content.decode() and Job.objects.filter(pk=job.pk).exists()


@USE_TEST_URLS
class TestDeleteWithTypedName(DeleteViewTests):
    """confirm_name: the job goes only once its kind ("clone") is typed exactly."""

    url_name = "generic-test:job_delete"

    @pytest.fixture
    def obj(self, job):
        return job

    def test_it_says_what_to_type(self, admin_client, obj):
        page = admin_client.get(self.url(obj.pk)).content.decode()
        assert "Type <strong>clone</strong> to confirm" in page and 'name="name"' in page


def test_it_says_when_a_job_to_cancel_has_finished(admin_client):
    done = Job.objects.create(kind="clone", status=Job.Status.SUCCEEDED, progress=100)
    response = admin_client.post(f"/jobs/{done.pk}/cancel/")
    assert response["Location"] == done.get_absolute_url()
    assert messages_of(response) == [("error", f"Cancel of {done} failed: Job {done.pk} has already finished "
                                               "(succeeded).")]


def test_it_hides_the_buttons_the_state_does_not_allow(job):
    assert [b.allowed for b in bound_actions(job, [CANCEL_JOB])] == [True]
    with pytest.raises(OperationInvalid):
        NOT_NOW.perform(job, None)
    TOUCH.perform(job, None)
    job.refresh_from_db()
    assert job.progress == 55


def test_it_needs_exactly_one_of_service_and_task():
    with pytest.raises(ValueError):
        Action("x", "X")
    with pytest.raises(ValueError):
        Action("x", "X", service=print, task=object())


def render(source, path="/jobs/?status=queued"):
    return Template(source).render(Context({"request": RequestFactory().get(path)}))


def test_it_renders_a_live_region_that_refetches_itself():
    html = render('{% live_region "job-table" class="card" %}<p>rows</p>{% endlive_region %}')
    assert html == ('<div id="job-table" class="card" hx-get="/jobs/?status=queued" hx-trigger="live from:body" '
                    'hx-select="#job-table" hx-swap="outerHTML"><p>rows</p></div>')
    assert render('{% live_region "s" tag="span" %}x{% endlive_region %}').startswith('<span ')


def test_it_escapes_what_a_live_region_puts_in_attributes():
    html = render("""{% live_region 'r"><script>' class='c" onclick="x' %}{% endlive_region %}""")
    assert "<script>" not in html and 'onclick="' not in html
    assert 'id="r&quot;&gt;&lt;script&gt;"' in html and 'class="c&quot; onclick=&quot;x"' in html


@pytest.mark.parametrize("source", ['{% live_region %}{% endlive_region %}',
                                    '{% live_region "r" onclick="x" %}{% endlive_region %}',
                                    '{% live_region "r" tag="script" %}{% endlive_region %}'])
def test_it_refuses_a_malformed_live_region(source):
    with pytest.raises(TemplateSyntaxError):
        render(source)
