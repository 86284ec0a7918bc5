"""A job runs in a real Celery worker in the language of the request that queued it (its error included)."""
import pytest
from django.utils import translation

from core import jobs
from core.models import Job
from core.testing import eventually
from core.testing.i18n import compiled_catalogs  # noqa: F401 - the fixture
from core.tests.test_worker import worker  # noqa: F401 - the fixture
from hosts.models import Host
from hosts.tasks import refresh_host

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("compiled_catalogs")
def test_it_fails_each_job_in_the_language_it_was_queued_in(worker, make_host):  # noqa: F811
    host = make_host("small")
    Host.objects.filter(pk=host.pk).update(uri="ftp://kvm1/system")  # virt/ refuses it: URIError
    english = jobs.enqueue(refresh_host, target=host, host=host, host_id=host.pk)
    with translation.override("vi"):
        vietnamese = jobs.enqueue(refresh_host, target=host, host=host, host_id=host.pk)
    for job in (english, vietnamese):
        eventually(lambda job=job: Job.objects.get(pk=job.pk).status == "failed", timeout=60, message="job failed")
    assert Job.objects.get(pk=english.pk).error.startswith("Unsupported URI scheme 'ftp'. Use one of: ")
    assert Job.objects.get(pk=vietnamese.pk).error.startswith(
        "Scheme URI 'ftp' không được hỗ trợ. Hãy dùng một trong: ")
