"""Every lifecycle action on libvirt's test driver, through its API route and its page route (the standard
action tests of core/testing), each result read back from libvirt; and each state guard's refusal.

small.xml: web1 runs, db1 is shut off, cache1 is paused. libvirt's test driver completes a shutdown at once.
"""
import pytest
from django.urls import reverse

from core.models import Job
from core.testing.api import APIActionTests
from core.testing.views import ActionViewTests
from hosts.connection import call
from instances import lifecycle
from instances.models import Instance
from instances.tests.jobs import run_queued

pytestmark = pytest.mark.django_db

# libvirt's VIR_DOMAIN_* state numbers, spelled out so the check does not go through virtdeck's mapping.
RUNNING, PAUSED, SHUTOFF = 1, 3, 5


def raw(vm, fn):
    """fn(virDomain) on the host's connection: libvirt's own answer, not virtdeck's (a test-driver node file is
    private to its connection, so the check must use the connection the app used)."""
    uuid = str(vm.uuid)
    return call(vm.host, lambda conn: fn(conn.lookupByUUIDString(uuid)))


def libvirt_state(vm):
    return raw(vm, lambda dom: dom.state()[0])


def saved(vm):
    raw(vm, lambda dom: dom.managedSave(0))
    lifecycle.refreshed(vm)
    return Instance.objects.get(pk=vm.pk)


def autostarting(vm):
    raw(vm, lambda dom: dom.setAutostart(1))
    return lifecycle.refreshed(vm)


# action: (VM of small.xml, how to prepare it, what libvirt must say afterwards)
CASES = {
    "start": ("db1", None, lambda vm: libvirt_state(vm) == RUNNING),
    "shutdown": ("web1", None, lambda vm: libvirt_state(vm) == SHUTOFF),
    "destroy": ("web1", None, lambda vm: libvirt_state(vm) == SHUTOFF),
    "reboot": ("web1", None, lambda vm: libvirt_state(vm) == RUNNING),
    "reset": ("web1", None, lambda vm: libvirt_state(vm) == RUNNING),
    "suspend": ("web1", None, lambda vm: libvirt_state(vm) == PAUSED),
    "resume": ("cache1", None, lambda vm: libvirt_state(vm) == RUNNING),
    "save": ("web1", None, lambda vm: libvirt_state(vm) == SHUTOFF and raw(vm, lambda d: d.hasManagedSaveImage(0))),
    "restore": ("web1", saved, lambda vm: libvirt_state(vm) == RUNNING and not raw(vm, lambda d: d.hasManagedSaveImage(0))),
    "discard_save": ("web1", saved,
                     lambda vm: libvirt_state(vm) == SHUTOFF and not raw(vm, lambda d: d.hasManagedSaveImage(0))),
    "autostart_on": ("db1", None, lambda vm: raw(vm, lambda d: d.autostart()) == 1),
    "autostart_off": ("db1", autostarting, lambda vm: raw(vm, lambda d: d.autostart()) == 0),
}
# action: VMs (as prepared) whose state refuses it, with the word the message must carry
REFUSED = {
    "start": [("web1", None, "running"), ("cache1", None, "paused")],
    "shutdown": [("db1", None, "shut off"), ("cache1", None, "paused")],
    "destroy": [("db1", None, "shut off")],
    "reboot": [("db1", None, "shut off"), ("cache1", None, "paused")],
    "reset": [("db1", None, "shut off")],
    "suspend": [("db1", None, "shut off"), ("cache1", None, "paused")],
    "resume": [("web1", None, "running"), ("db1", None, "shut off")],
    "save": [("db1", None, "shut off")],
    "restore": [("web1", None, "running"), ("db1", None, "db1 has no saved state to restore")],
    "discard_save": [("db1", None, "db1 has no saved state to discard"), ("web1", None, "running")],
    "autostart_on": [("db1", autostarting, "Autostart on is not possible for db1")],
    "autostart_off": [("db1", None, "Autostart off is not possible for db1")],
}


@pytest.fixture
def small(make_host):
    return make_host("small")


def prepared(name, prepare):
    vm = Instance.objects.select_related("host").get(name=name)
    return Instance.objects.select_related("host").get(pk=(prepare(vm) if prepare else vm).pk)


# Save and restore run as jobs (instances/lifecycle_jobs.py): 202 + Location, the page goes on to the job.
JOB_ACTIONS = {"save": "save_instance", "restore": "restore_instance"}


def api_tests(action):
    name, prepare, check = CASES[action]

    class Tests(APIActionTests):
        url_name = f"api-instances:instance-{action.replace('_', '-')}"
        status = 202 if action in JOB_ACTIONS else 200

        @pytest.fixture
        def obj(self, small):
            return prepared(name, prepare)

        def assert_done(self, obj, response):
            if action in JOB_ACTIONS:
                assert response.json()["kind"] == JOB_ACTIONS[action]
                assert not check(obj), "done in the request: it must wait for its job"
                job = run_queued(response)
                assert job.status == "succeeded", job.error
                response_state = job.result["state"]
            else:
                response_state = response.json()["state"]
            assert check(obj), f"libvirt does not show {action} done"
            row = Instance.objects.get(pk=obj.pk)
            assert response_state == row.state  # the answer (the job's result) shows the row as re-read
            if action not in ("autostart_on", "autostart_off"):
                assert row.state != obj.state or action in ("reboot", "reset", "discard_save")

    Tests.__name__ = f"TestAPI_{action}"
    return Tests


def page_tests(action):
    name, prepare, check = CASES[action]

    class Tests(ActionViewTests):
        url_name = f"instances:instance_{action}"

        @pytest.fixture
        def obj(self, small):
            return prepared(name, prepare)

        def assert_done(self, obj, response):
            if action in JOB_ACTIONS:
                job = Job.objects.get(kind=JOB_ACTIONS[action])
                assert response["Location"] == job.get_absolute_url()  # the job's page shows its progress
                assert run_queued(job).status == "succeeded"
            else:
                assert response["Location"] == obj.get_absolute_url()
            assert check(obj), f"libvirt does not show {action} done"

        if action in JOB_ACTIONS:
            def test_it_goes_back_to_a_same_site_next_only(self, admin_client, obj):
                """A job action goes on to its job's page instead, whatever `next` says."""
                away = admin_client.post(self.url(obj), {"next": "https://evil.example/"})
                assert away["Location"] == Job.objects.get().get_absolute_url()

    Tests.__name__ = f"TestPage_{action}"
    return Tests


for _action in CASES:
    globals()[f"TestAPI_{_action}"] = api_tests(_action)
    globals()[f"TestPage_{_action}"] = page_tests(_action)


@pytest.mark.parametrize("action,name,prepare,word", [
    (action, name, prepare, word) for action, cases in REFUSED.items() for name, prepare, word in cases])
def test_it_refuses_an_action_the_state_does_not_allow(api, small, action, name, prepare, word):
    vm = prepared(name, prepare)
    before = (libvirt_state(vm), raw(vm, lambda d: d.autostart()), raw(vm, lambda d: d.hasManagedSaveImage(0)))
    response = api.post(f"/api/instances/{vm.pk}/{action}/")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"] == "OperationInvalid" and word in body["detail"], body
    after = (libvirt_state(vm), raw(vm, lambda d: d.autostart()), raw(vm, lambda d: d.hasManagedSaveImage(0)))
    assert after == before


def test_it_rechecks_the_live_domain_when_the_row_is_stale(api, small):
    web1 = Instance.objects.get(name="web1")
    Instance.objects.filter(pk=web1.pk).update(state="shutoff")  # the row lags: the VM runs
    response = api.post(f"/api/instances/{web1.pk}/start/")
    assert response.status_code == 409
    assert response.json()["detail"] == "Cannot start a VM that is running."
    assert libvirt_state(web1) == RUNNING


def test_it_starts_a_saved_vm_by_restoring_its_state(api, small):
    web1 = saved(Instance.objects.get(name="web1"))
    assert web1.state == "shutoff"
    response = api.post(f"/api/instances/{web1.pk}/start/")
    assert response.status_code == 200 and response.json()["state"] == "running"
    assert libvirt_state(web1) == RUNNING and not raw(web1, lambda d: d.hasManagedSaveImage(0))


def test_it_shows_only_the_buttons_the_state_allows(admin_client, small):
    expected = {
        "web1": {"shutdown", "reboot", "reset", "suspend", "save", "destroy", "autostart_on"},
        "db1": {"start", "autostart_on", "delete"},
        "cache1": {"resume", "save", "destroy", "autostart_on"},
    }
    for vm in Instance.objects.all():
        content = admin_client.get(vm.get_absolute_url()).content.decode()
        shown = {action for action in [*CASES, "delete"] if f'data-action="{action}"' in content}
        assert shown == expected[vm.name], vm.name
        assert ('id="rename-form"' in content) == (vm.name == "db1")


def test_it_offers_restore_and_discard_for_a_saved_vm(admin_client, small):
    web1 = saved(Instance.objects.get(name="web1"))
    content = admin_client.get(web1.get_absolute_url()).content.decode()
    assert 'data-action="restore"' in content and 'data-action="discard_save"' in content
    assert 'data-action="start"' not in content and 'id="rename-form"' not in content


def test_it_says_when_a_shutdown_was_asked_and_offers_force_off_after_the_grace(admin_client, small, settings):
    # libvirt's test driver completes a shutdown at once: record the request the way the service does
    # for a guest that ignores it (the lab test sends a real ACPI shutdown to a guest without an OS).
    web1 = Instance.objects.get(name="web1")
    lifecycle.after_act(web1, "shutdown")
    settings.INSTANCE_SHUTDOWN_GRACE = 3600
    content = admin_client.get(web1.get_absolute_url()).content.decode()
    assert 'id="shutdown-pending"' in content and "Waiting for the guest" in content
    assert 'hx-trigger="load delay:3600s"' in content and 'data-action="force-off-offer"' not in content
    settings.INSTANCE_SHUTDOWN_GRACE = 0
    content = admin_client.get(web1.get_absolute_url()).content.decode()
    assert "still running" in content and 'data-action="force-off-offer"' in content
    response = admin_client.post(reverse("instances:instance_destroy", args=[web1.pk]))
    assert response.status_code == 302 and libvirt_state(web1) == SHUTOFF
    assert 'id="shutdown-pending"' not in admin_client.get(web1.get_absolute_url()).content.decode()


def test_it_forgets_a_shutdown_request_once_the_vm_stopped(admin_client, small, settings):
    settings.INSTANCE_SHUTDOWN_GRACE = 0
    web1 = Instance.objects.get(name="web1")
    assert admin_client.post(reverse("instances:instance_shutdown", args=[web1.pk])).status_code == 302
    assert libvirt_state(web1) == SHUTOFF
    assert lifecycle.pending_shutdown(Instance.objects.get(pk=web1.pk)) is None


def test_it_shows_a_refusal_as_an_error_message_on_the_page(admin_client, small):
    db1 = Instance.objects.get(name="db1")
    response = admin_client.post(reverse("instances:instance_suspend", args=[db1.pk]), follow=True)
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("error", "Pause of db1 failed: Pause is not possible for db1 while it is shut off.")]
    assert libvirt_state(db1) == SHUTOFF


def test_it_shows_per_row_buttons_from_the_rows_state_only(admin_client, small, monkeypatch):
    import virt.connection

    def no_libvirt(*args, **kwargs):
        raise AssertionError("the list called libvirt")

    monkeypatch.setattr(virt.connection.Pool, "call", no_libvirt)
    content = admin_client.get(reverse("instances:instance_list")).content.decode()
    for vm, actions in (("web1", {"shutdown", "destroy"}), ("db1", {"start"}), ("cache1", {"destroy"})):
        row = content[content.index(f'data-state="{Instance.objects.get(name=vm).state}"'):]
        row = row[:row.index("</tr>")]
        assert {a for a in ("start", "shutdown", "destroy") if f'data-action="{a}"' in row} == actions, vm


def test_it_explains_a_force_off_libvirt_refuses_as_the_guard_would(api, small):
    db1 = Instance.objects.get(name="db1")
    Instance.objects.filter(pk=db1.pk).update(state="running")  # the row lags: the VM is shut off
    response = api.post(f"/api/instances/{db1.pk}/destroy/")
    assert response.status_code == 409
    assert response.json()["detail"] == "Cannot destroy a VM that is shut off."
    assert libvirt_state(db1) == SHUTOFF


@pytest.mark.parametrize("name,action,after", [("db1", "start", RUNNING), ("web1", "destroy", SHUTOFF)])
def test_it_asks_the_state_guard_only_when_libvirt_refuses_start_or_force_off(api, small, monkeypatch, name,
                                                                             action, after):
    from virt.domain import Domain

    guarded = []
    check = Domain.check
    monkeypatch.setattr(Domain, "check", lambda self, what: guarded.append(what) or check(self, what))
    vm = Instance.objects.get(name=name)
    assert api.post(f"/api/instances/{vm.pk}/{action}/").status_code == 200
    assert libvirt_state(vm) == after and guarded == []  # lookup + the action: as a bare libvirt loop does
    Instance.objects.filter(pk=vm.pk).update(state="shutoff" if action == "start" else "running")  # stale row
    assert api.post(f"/api/instances/{vm.pk}/{action}/").status_code == 409
    assert guarded == [action]
