"""Job pages and /api/jobs/ through the standard generic-view tests (core/testing), one filter set for both."""
import pytest

from core.models import Job
from core.testing.api import APIActionTests, APIViewSetTests
from core.testing.views import ActionViewTests, DetailViewTests, ListViewTests

pytestmark = pytest.mark.django_db
FILTERS = [
    ({"status": "queued"}, {"Refresh host #1"}),
    ({"status": ["running", "failed"]}, {"Clone #2", "Migrate #3"}),
    ({"kind": "clone"}, {"Clone #2"}),
    ({"target_kind": "instance"}, {"Clone #2", "Migrate #3"}),
    ({"kind": "clone", "status": "queued"}, set()),
]


@pytest.fixture
def jobs():
    """Three jobs with fixed ids, so that the filters above can name them."""
    return [Job.objects.create(pk=1, kind="refresh_host", target_kind="host", target_id="1"),
            Job.objects.create(pk=2, kind="clone", status=Job.Status.RUNNING, progress=40, target_kind="instance"),
            Job.objects.create(pk=3, kind="migrate", status=Job.Status.FAILED, progress=70, target_kind="instance")]


class TestJobList(ListViewTests):
    url_name = "core:job_list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, jobs):
        return jobs


class TestJobDetail(DetailViewTests):
    url_name = "core:job_detail"

    @pytest.fixture
    def obj(self, jobs):
        return jobs[1]


class TestJobCancel(ActionViewTests):
    url_name = "core:job_cancel"

    @pytest.fixture
    def obj(self, jobs):
        return jobs[0]

    def assert_done(self, obj, response):
        obj.refresh_from_db()
        assert obj.status == Job.Status.CANCELLED and obj.cancel_requested
        assert response["Location"] == obj.get_absolute_url()


class TestJobAPI(APIViewSetTests):
    list_url_name = "api-core:job-list"
    filters = FILTERS

    @pytest.fixture
    def objects(self, jobs):
        return jobs


class TestJobCancelAPI(APIActionTests):
    url_name = "api-core:job-cancel"

    @pytest.fixture
    def obj(self, jobs):
        return jobs[1]

    def assert_done(self, obj, response):
        obj.refresh_from_db()
        assert obj.status == Job.Status.RUNNING and obj.cancel_requested  # stops at its next check
        assert response.json()["cancel_requested"] is True
