"""/api/instances/<id>/snapshots/ on libvirt's test driver: the tree, create, revert, delete, bad input.

Create, revert and delete answer 202 with a job (instances/lifecycle_jobs.py), run here in-process
(tests/jobs.py); refusals found before it is queued answer 400/404/409 and queue nothing. Every result is
read back through libvirt itself (the same test-driver connection the app uses: each connection to a node
file has its own copy of it). Real QEMU images: test_lab_snapshots.py.
"""
import libvirt
import pytest
from rest_framework.test import APIClient

from core.models import Job
from hosts.connection import call
from instances.choices import InstanceState
from instances.models import Instance
from instances.tests.jobs import run_queued

pytestmark = pytest.mark.django_db
WEB1 = "11111111-1111-4111-8111-111111111111"
SNAPPY = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def web1(make_host):
    """A running VM with a qcow2 disk on the small node."""
    make_host("small")
    return Instance.objects.get(name="web1")


@pytest.fixture
def snappy(make_host):
    """A shut-off VM on the overlay of an external disk-only snapshot e1 (core/testing/nodes/snapshots.xml)."""
    make_host("snapshots")
    return Instance.objects.get(name="snappy")


def url(vm, name=None, action=None):
    return f"/api/instances/{vm.pk}/snapshots/" + (f"{name}/" if name else "") + (f"{action}/" if action else "")


def on_libvirt(vm, fn):
    """fn(virDomain) on the app's own connection to the VM's host: libvirt's answer, not virtdeck's."""
    uuid = str(vm.uuid)
    return call(vm.host, lambda conn: fn(conn.lookupByUUIDString(uuid)))


def libvirt_snapshots(vm):
    return on_libvirt(vm, lambda dom: sorted(s.getName() for s in dom.listAllSnapshots(0)))


def current_snapshot(vm):
    return on_libvirt(vm, lambda dom: dom.snapshotCurrent(0).getName() if dom.hasCurrentSnapshot(0) else None)


def take(api, vm, name, **fields):
    """Take a snapshot through the API and run its job: the job, succeeded."""
    job = run_queued(api.post(url(vm), {"name": name, **fields}, format="json"))
    assert job.status == "succeeded", job.error
    return job


def run(response):
    """The job a 202 answer queued, run to its end."""
    assert response["Location"].endswith(f"/api/jobs/{response.json()['id']}/")
    return run_queued(response)


def test_it_lists_snapshots_as_a_tree_with_the_current_one_marked(api, web1):
    take(api, web1, "base", description="clean install")
    take(api, web1, "branch-a")
    assert run(api.post(url(web1, "base", "revert"))).status == "succeeded"
    take(api, web1, "branch-b", kind="internal")

    tree = api.get(url(web1)).json()

    assert [(s["name"], s["parent"], s["depth"], s["children"], s["current"]) for s in tree] == [
        ("base", None, 0, ["branch-a", "branch-b"], False),
        ("branch-a", "base", 1, [], False),
        ("branch-b", "base", 1, [], True)]
    assert tree[0]["description"] == "clean install" and tree[0]["kind"] == "internal"
    assert tree[0]["state"] == "running" and tree[0]["memory"] is True and tree[0]["created"].endswith("Z")
    assert libvirt_snapshots(web1) == ["base", "branch-a", "branch-b"] and current_snapshot(web1) == "branch-b"
    parent = on_libvirt(web1, lambda dom: dom.snapshotLookupByName("branch-b", 0).getParent(0).getName())
    assert parent == "base"


def test_it_lists_no_snapshots_as_an_empty_list(api, web1):
    assert api.get(url(web1)).json() == []


def test_it_creates_a_snapshot_as_a_job_and_says_where_it_is(api, web1):
    response = api.post(url(web1), {"name": "before upgrade ü", "kind": "internal",
                                    "description": "line one\nline two"}, format="json")
    assert response.status_code == 202 and response.json()["kind"] == "snapshot_create"
    assert libvirt_snapshots(web1) == []  # not in the request: the job takes it

    job = run(response)

    assert job.status == "succeeded", job.error
    assert job.result == {"instance": web1.pk, "state": "running", "snapshot": "before upgrade ü"}
    body = api.get(url(web1, "before upgrade ü")).json()
    assert body["name"] == "before upgrade ü" and body["current"] and body["description"] == "line one\nline two"
    description = on_libvirt(web1, lambda dom: dom.snapshotLookupByName("before upgrade ü", 0).getXMLDesc(0))
    assert "<description>line one\nline two</description>" in description


def test_it_shows_one_snapshot_and_404_for_a_missing_one(api, web1):
    take(api, web1, "one")
    assert api.get(url(web1, "one")).json()["name"] == "one"
    missing = api.get(url(web1, "missing"))
    assert missing.status_code == 404 and "missing" in missing.json()["detail"]
    assert api.get(f"/api/instances/{web1.pk + 1000}/snapshots/").status_code == 404


@pytest.mark.parametrize("name", ["a/b", "..", "../up", "x..y", "", "   ", "-rf", "x" * 241, "é" * 121, "line\nbreak",
                                  "nul\x00", "\u202eevil", None, ["a"], {"a": 1}])
def test_it_refuses_a_bad_name_naming_the_field(api, web1, name):
    response = api.post(url(web1), {"name": name, "kind": "internal"}, format="json")

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"name"}
    assert libvirt_snapshots(web1) == [] and not Job.objects.exists()


def test_it_refuses_a_duplicate_name_and_changes_nothing(api, web1):
    take(api, web1, "base")
    take(api, web1, "later")

    response = api.post(url(web1), {"name": "base", "kind": "internal"}, format="json")

    assert response.status_code == 400 and "already has a snapshot named base" in response.json()["name"][0]
    assert libvirt_snapshots(web1) == ["base", "later"] and current_snapshot(web1) == "later"
    assert Job.objects.count() == 2  # the two taken; none for the refused one


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "bogus"}, "kind"), ({"kind": ""}, "kind"), ({"kind": ["internal"]}, "kind"),
    ({"kind": "INTERNAL"}, "kind"), ({"description": "x" * 1001}, "description"),
    ({"description": "bell\x07"}, "description"), ({"description": "esc\x1b[31m"}, "description"),
    ({"description": "\u202etxt.exe"}, "description"), ({"description": {"a": 1}}, "description"),
])
def test_it_refuses_a_bad_kind_or_description_naming_the_field(api, web1, body, field):
    response = api.post(url(web1), {"name": "ok", **body}, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert libvirt_snapshots(web1) == [] and not Job.objects.exists()


def test_it_fails_the_job_with_libvirts_refusal_of_a_kind(api, web1):
    """The test driver takes no disk-only snapshots, which only libvirt can say: the job fails with its
    message and nothing is made (a raw disk's refusal of an internal one is found before: the lab)."""
    job = run(api.post(url(web1), {"name": "e1", "kind": "external"}, format="json"))

    assert job.status == "failed"
    assert job.error.startswith("unsupported flags") and "testDomainSnapshotCreateXML" in job.error
    assert libvirt_snapshots(web1) == []


@pytest.mark.parametrize("body", ["not json", "[]", '"name"', "{", "null"])
def test_it_refuses_a_body_that_is_not_an_object(api, web1, body):
    response = api.post(url(web1), body, content_type="application/json")
    assert response.status_code == 400 and libvirt_snapshots(web1) == []


def test_it_reverts_natively_and_refreshes_the_row(api, web1):
    take(api, web1, "up")
    on_libvirt(web1, lambda dom: dom.destroy())
    Instance.objects.filter(pk=web1.pk).update(state=InstanceState.SHUTOFF)  # as the watcher would have recorded it

    job = run(api.post(url(web1, "up", "revert")))

    assert job.kind == "snapshot_revert" and job.status == "succeeded", job.error
    assert job.result == {"name": "up", "method": "native", "label": "Reverted by libvirt.", "state": "running",
                          "instance": web1.pk}
    assert "web1 reverted to up. Reverted by libvirt." in [entry["message"] for entry in job.log]
    assert on_libvirt(web1, lambda dom: dom.state()[0]) == libvirt.VIR_DOMAIN_RUNNING
    assert Instance.objects.get(pk=web1.pk).state == InstanceState.RUNNING


def test_it_refuses_to_revert_a_running_vm_to_an_external_snapshot_on_this_libvirt(api, snappy):
    on_libvirt(snappy, lambda dom: dom.create())

    response = api.post(url(snappy, "e1", "revert"))

    assert response.status_code == 409 and "shut the VM down first" in response.json()["detail"]
    assert not Job.objects.exists()
    sources = on_libvirt(snappy, lambda dom: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert "/srv/vm/snappy.e1" in sources  # the disk still on its overlay


def test_it_reverts_a_shut_off_vm_to_an_external_snapshot_by_hand_or_says_why_not(api, snappy):
    """The test driver refuses the fresh overlay virtdeck's own revert makes: libvirt's message, nothing changed.
    The revert itself on real images: test_lab_snapshots.py."""
    before = on_libvirt(snappy, lambda dom: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))

    job = run(api.post(url(snappy, "e1", "revert")))

    assert job.status == "failed" and "unsupported flags" in job.error
    assert on_libvirt(snappy, lambda dom: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == before


def test_it_refuses_to_revert_to_or_delete_a_missing_snapshot_without_a_job(api, web1):
    assert api.post(url(web1, "nope", "revert")).status_code == 404
    assert api.delete(url(web1, "nope")).status_code == 404
    assert not Job.objects.exists()


def test_it_lists_an_external_snapshot_as_such(api, snappy):
    [snapshot] = api.get(url(snappy)).json()
    assert snapshot | {"created": None} == {
        "name": "e1", "parent": None, "children": [], "depth": 0, "current": False, "kind": "external",
        "state": "disk-snapshot", "memory": False, "created": None, "description": ""}


def test_it_deletes_a_snapshot_and_its_children_move_up(api, web1):
    take(api, web1, "base")
    take(api, web1, "child")

    job = run(api.delete(url(web1, "base")))

    assert job.kind == "snapshot_delete" and job.status == "succeeded", job.error
    assert job.result == {"name": "base", "metadata_only": False, "files_left": [], "instance": web1.pk,
                          "state": "running"}
    assert libvirt_snapshots(web1) == ["child"]
    assert [s["parent"] for s in api.get(url(web1)).json()] == [None]
    assert api.delete(url(web1, "base")).status_code == 404


def test_it_refreshes_the_row_after_a_delete(api, web1):
    take(api, web1, "base")
    Instance.objects.filter(pk=web1.pk).update(state=InstanceState.PAUSED)  # stale

    run(api.delete(url(web1, "base")))

    assert Instance.objects.get(pk=web1.pk).state == InstanceState.RUNNING


def test_it_allows_only_its_methods(api, web1):
    take(api, web1, "one")
    assert api.put(url(web1), {}, format="json").status_code == 405
    assert api.delete(url(web1)).status_code == 405
    assert api.post(url(web1, "one"), {}, format="json").status_code == 405
    assert api.get(url(web1, "one", "revert")).status_code == 405
    assert api.delete(url(web1, "one", "revert")).status_code == 405
    assert libvirt_snapshots(web1) == ["one"] and Job.objects.count() == 1


def test_it_needs_a_login_and_a_csrf_token_with_a_session(admin_user, web1):
    anonymous = APIClient()
    assert anonymous.get(url(web1)).status_code in (401, 403)
    assert anonymous.post(url(web1), {"name": "x"}, format="json").status_code in (401, 403)
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(admin_user)
    assert session.get(url(web1)).status_code == 200
    assert session.post(url(web1), {"name": "x"}, format="json").status_code == 403
    assert libvirt_snapshots(web1) == [] and not Job.objects.exists()


def test_it_answers_503_when_the_host_is_down(api, web1):
    web1.host.uri = "qemu+tcp://127.0.0.1:1/system"
    web1.host.save(update_fields=["uri"])

    response = api.get(url(web1))

    assert response.status_code == 503 and response.json()["error"] == "HostUnreachable"


@pytest.mark.parametrize(("version", "native"), [("9.0.0", False), ("9.8.99", False), ("9.9.0", True),
                                                 ("10.0.0", True), ("", False), ("garbage", False)])
def test_it_knows_which_libvirt_reverts_external_snapshots_itself(web1, version, native):
    from instances.snapshots import native_external_revert

    web1.host.facts["libvirt_version"] = version
    assert native_external_revert(web1.host) is native
