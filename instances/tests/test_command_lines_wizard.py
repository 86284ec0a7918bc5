"""The wizard's preview step shows the create job's lines from the same plan: vol-create-as for the new disk,
define of the very XML previewed (to save), start if it will start; the job's page then shows the same."""
import html

import pytest

from core.jobs import commands_for
from core.models import Job
from instances.creation_tasks import create_instance_task  # noqa: F401 (registers the task)
from instances.tests.test_wizard_views import ADD, answers, domain_names, host  # noqa: F401 (host: a fixture)

pytestmark = pytest.mark.django_db


def test_it_shows_the_lines_of_the_create_on_the_preview(admin_client, host):  # noqa: F811
    response = admin_client.post(ADD, answers(host, operation="preview", name="vm 1;x"))
    page, uri = response.content.decode(), host.uri
    lines = [str(command) for command in response.context["commands"]]
    assert lines == [f"virsh -c {uri} vol-create-as images 'vm 1;x.qcow2' 1G --format qcow2 --allocation 0",
                     f"virsh -c {uri} define 'vm 1;x.xml'", f"virsh -c {uri} start 'vm 1;x'"]
    for line in lines:
        assert f'data-copy-command="{html.escape(line)}"' in page
    assert response.context["commands"][1].reads == response.context["preview"]  # the XML it defines
    assert domain_names(host) == ["busy", "existing"] and not Job.objects.exists()
    without_start = admin_client.post(ADD, {**answers(host, operation="preview"), "start": ""}).context["commands"]
    assert [command.argv[3] for command in without_start] == ["vol-create-as", "define"]


def test_it_shows_the_same_lines_on_the_jobs_page(admin_client, host):  # noqa: F811
    preview = admin_client.post(ADD, answers(host, operation="preview")).context["commands"]
    admin_client.post(ADD, answers(host, operation="create"))
    job = Job.objects.get(kind="create_instance")
    assert [str(c) for c in commands_for(job)] == [str(c) for c in preview]
    assert commands_for(job)[1].reads == job.params["xml"]
