"""The Snapshots section shows the virsh lines: snapshot-create-as for the create form's values as they change
(GET ?commands=1, nothing taken), revert and delete for each snapshot, and the delete dialog its own line."""
import html

import pytest

from instances.tests.test_snapshots_api import libvirt_snapshots
from instances.tests.test_snapshots_views import HTMX, delete_url, section_url, take, web1  # noqa: F401

pytestmark = pytest.mark.django_db


def preview(admin_client, vm, **fields):
    response = admin_client.get(section_url(vm), {"commands": "1", **fields}, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_create_line_for_the_forms_values(admin_client, web1):  # noqa: F811
    section = admin_client.get(section_url(web1), headers=HTMX).content.decode()
    assert 'hx-include="#snapshot-create-form"' in section and f"{section_url(web1)}?commands=1" in section
    page = preview(admin_client, web1, name="before upgrade", kind="external", description="v1; $(id)")
    line = f"virsh -c {web1.host.uri} snapshot-create-as web1 'before upgrade' --description 'v1; $(id)' " \
           "--disk-only --atomic"
    assert f'data-copy-command="{html.escape(line)}"' in page
    assert libvirt_snapshots(web1) == []  # asking took nothing


def test_it_shows_the_refusal_for_a_bad_name(admin_client, web1):  # noqa: F811
    page = preview(admin_client, web1, name="a/b", kind="internal")
    assert "data-command-hint" in page and "snapshot-create-as" not in page


def test_it_lists_revert_and_delete_lines_for_each_snapshot(admin_client, web1):  # noqa: F811
    take(admin_client, web1, "s1;x")
    section = admin_client.get(section_url(web1), headers=HTMX).content.decode()
    uri = web1.host.uri
    assert html.escape(f"virsh -c {uri} snapshot-revert web1 's1;x'") in section
    assert html.escape(f"virsh -c {uri} snapshot-delete web1 's1;x'") in section
    dialog = admin_client.get(delete_url(web1, "s1;x")).content.decode()
    assert f'data-copy-command="{html.escape(f"virsh -c {uri} snapshot-delete web1 {chr(39)}s1;x{chr(39)}")}"' in dialog
