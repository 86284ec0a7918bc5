"""Jobs page: a host filter next to status and kind."""
import pytest

from core.models import Job

pytestmark = pytest.mark.django_db


def test_it_filters_jobs_by_host(admin_client, make_host):
    small, fleet = make_host("small"), make_host("fleet")
    mine = Job.objects.create(kind="refresh_host", host=small)
    other = Job.objects.create(kind="refresh_host", host=fleet)
    response = admin_client.get("/jobs/", {"host": small.pk})
    content = response.content.decode()
    assert '<select class="form-select" name="host"' in content
    assert f'<option value="{small.pk}" selected>small</option>' in content
    assert f'<option value="{fleet.pk}">fleet</option>' in content
    assert [job.pk for job in response.context["page_obj"]] == [mine.pk]
    assert {job.pk for job in admin_client.get("/jobs/").context["page_obj"]} == {mine.pk, other.pk}
