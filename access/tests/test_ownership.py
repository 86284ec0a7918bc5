"""Ownership on every route, enumerated from the URL resolver and the websocket router (core/testing/routes.py):
the outsider gets 404 on every object endpoint, the operator reaches only the VM granted to them, and no write
by either changes anything that is not theirs. A new route is covered the day it lands."""
import libvirt
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import QuerySet

from access.models import Grant, Role
from accounts.models import ApiToken
from audit.models import AuditEntry
from core.models import Job
from core.permissions import restrict
from core.testing.personas import api_for, client_for, make_personas
from core.testing.routes import url_routes
from hosts.connection import call
from hosts.models import Host
from instances.models import Instance, InstanceTemplate
from networks.models import Network
from storage.models import StoragePool, Volume

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Routes whose view does not name its model (function views, plain APIViews): by URL name.
MODEL_OF_NAME = {"token_revoke": ApiToken, "token-detail": ApiToken, "host_edit": Host, "network_xml": Network,
                 "trace_pcap": Job, "api-instance-console": Instance, "host_series": Host,
                 "instance_series": Instance, "host_key_accept": Host, "host-host-key": Host,
                 "volume-upload": Volume, "volume-upload-as": Volume, "volume-download": Volume}
# Readable by every logged-in user on purpose (access/rules.py): the wizard's saved answers.
READABLE_BY_ALL = {InstanceTemplate}
# The values of URL arguments that are not the object's id.
OTHER_ARGUMENTS = {"index": "0", "name": "x", "mac": "52:54:00:00:00:01", "target": "vda", "change": "x",
                   "device": "x", "file_name": "x.img"}
# Rows a user may create for themselves, or that record what they did.
OWN_ROWS = {"accounts.apitoken", "audit.auditentry", "core.userpreference", "sessions.session",
            "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog", "authtoken.token"}

OBJECT_ROUTES = [r for r in url_routes() if r.kwargs and not r.pattern.startswith("admin/")]
LIST_ROUTES = [r for r in url_routes() if not r.kwargs and not r.pattern.startswith("admin/")
               and r.name not in ("login", "logout")]


def model_of(route):
    return route.model or MODEL_OF_NAME.get(route.name)


@pytest.fixture
def world(make_host):
    """The personas, plus one object of every kind that only the admin may see."""
    people = make_personas(make_host)
    admin, foreign = people["admin"], people["foreign_host"]
    pool = StoragePool.objects.filter(host=foreign).first()
    group = Group.objects.create(name="admins")
    job = Job.objects.create(kind="test", target_kind=Job.TargetKind.INSTANCE,
                             target_id=str(people["other_vm"].pk), user=admin)
    objects = {
        Host: foreign, Instance: people["other_vm"], Network: Network.objects.get(host=foreign),
        StoragePool: pool, Volume: Volume.objects.filter(pool=pool).first(), Job: job,
        InstanceTemplate: InstanceTemplate.objects.create(name="t", answers={}),
        AuditEntry: AuditEntry.objects.create(user=admin, username="admin", source="api", action="x"),
        ApiToken: ApiToken.issue(admin, "admin's")[0],
        get_user_model(): admin, Group: group, Grant: Grant.objects.create(group=group, role=Role.ADMIN),
    }
    return {**people, "objects": objects}


def path_for(route, obj):
    values = {**OTHER_ARGUMENTS, **dict.fromkeys(("pk", "job_id"), obj.pk)}
    return route.path(**values)


def row_counts():
    return {model._meta.label_lower: model.objects.count() for model in apps.get_models()
            if model._meta.label_lower not in OWN_ROWS}


def request(user, route, path, method):
    """A page route through the page client, an API route through DRF's client (JSON bodies)."""
    if path.startswith("/api/"):
        return getattr(api_for(user), method)(path, {}, format="json")
    return getattr(client_for(user), method)(path)


def context_values(response):
    """Every value of a page's template contexts (none for an API answer)."""
    context = response.context
    if context is None:
        return []
    values = {}
    for layer in (context if isinstance(context, list) else [context]):
        values.update(layer.flatten())
    return list(values.values())


def test_it_knows_the_model_of_every_object_route():
    unknown = [r.pattern for r in OBJECT_ROUTES if model_of(r) is None]
    assert not unknown, f"name the model of these routes in MODEL_OF_NAME: {unknown}"
    assert len(OBJECT_ROUTES) > 100


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=[r.pattern for r in OBJECT_ROUTES])
@pytest.mark.parametrize("persona", ["outsider", "operator"])
def test_it_validates_ownership(world, route, persona):
    """Every method on another's object: 404 (405 where the route has no such method); nothing changes."""
    model = model_of(route)
    obj = world["objects"][model]
    path = path_for(route, obj)
    before = row_counts()
    for method in METHODS:
        status = request(world[persona], route, path, method).status_code
        if model in READABLE_BY_ALL:  # readable (200), not writable (403)
            assert status in ((200,) if method == "get" else (403, 404, 405)), (method, path, status)
        else:
            assert status in (404, 405), (persona, method, path, status)
    assert row_counts() == before
    assert model.objects.filter(pk=obj.pk).exists()


INSTANCE_ROUTES = [r for r in OBJECT_ROUTES if model_of(r) is Instance]


@pytest.mark.parametrize("route", INSTANCE_ROUTES, ids=[r.pattern for r in INSTANCE_ROUTES])
def test_it_lets_the_operator_read_the_granted_vm(world, route):
    """The granted VM answers the operator as it answers the admin (a 404 for a missing snapshot name alike)."""
    path = path_for(route, world["vm"])
    status = request(world["operator"], route, path, "get").status_code
    assert status == request(world["admin"], route, path, "get").status_code and status < 500, (path, status)


@pytest.mark.parametrize("route", LIST_ROUTES, ids=[r.pattern for r in LIST_ROUTES])
@pytest.mark.parametrize("persona", ["outsider", "operator"])
def test_it_lists_only_what_the_persona_may_see(world, route, persona):
    """Lists, counts and filter choices: every object a page's context or an API answer carries is visible."""
    user = world[persona]
    path = route.path()
    response = request(user, route, path, "get")
    assert response.status_code < 500, (path, response.status_code)
    seen = []
    if path.startswith("/api/") and response.status_code == 200 and model_of(route) is not None:
        body = response.json() if response.get("Content-Type", "").startswith("application/json") else {}
        rows = body.get("results", body) if isinstance(body, dict) else body
        ids = [row["id"] for row in rows if isinstance(row, dict) and "id" in row] if isinstance(rows, list) else []
        seen = [(model_of(route), pk) for pk in ids]
    for value in context_values(response):
        items = value if isinstance(value, (QuerySet, list, tuple)) else [value]
        seen += [(type(item), item.pk) for item in items if type(item) in SCOPED]
    for model, pk in seen:
        assert restrict(model.objects.filter(pk=pk), user).exists(), (path, model.__name__, pk)
    foreign = world["objects"]
    text = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
    for model in (Host, Network, StoragePool):
        assert f">{foreign[model].name}<" not in text, (path, model.__name__)


SCOPED = {Host, Instance, Network, StoragePool, Volume, Job, AuditEntry}


def test_it_shows_the_operator_exactly_the_granted_vm(world):
    operator, vm = world["operator"], world["vm"]
    assert [row["id"] for row in api_for(operator).get("/api/instances/").json()["results"]] == [vm.pk]
    page = client_for(operator).get("/instances/")
    assert list(page.context["object_list"]) == [vm]
    assert client_for(operator).get("/").context["totals"]["total"] == 1
    assert api_for(world["outsider"]).get("/api/instances/").json()["results"] == []
    assert api_for(operator).get("/api/hosts/").json()["results"] == []


def test_it_refuses_a_host_filter_choice_the_user_may_not_see(world):
    response = api_for(world["operator"]).get("/api/instances/", {"host": world["host"].pk})
    assert response.status_code == 400 and "host" in response.json()


def test_it_acts_in_bulk_only_on_granted_vms(world):
    body = {"action": "suspend", "ids": [world["vm"].pk, world["other_vm"].pk]}
    results = api_for(world["operator"]).post("/api/instances/bulk/", body, format="json").json()
    by_id = {row["id"]: row for row in results["results"]} if isinstance(results, dict) else {
        row["id"]: row for row in results}
    assert by_id[world["other_vm"].pk]["status"] == 404 and by_id[world["vm"].pk]["ok"] is True
    # Read back from libvirt itself: the granted VM paused, the other one as it was.
    states = call(world["host"], lambda conn: {name: conn.lookupByName(name).state()[0] for name in ("web1", "db1")})
    assert states == {"web1": libvirt.VIR_DOMAIN_PAUSED, "db1": libvirt.VIR_DOMAIN_SHUTOFF}


def test_it_issues_console_tickets_for_the_granted_vm_only(world):
    api = api_for(world["operator"])
    assert api.post(f"/api/instances/{world['vm'].pk}/console/", {"kind": "vnc"}, format="json").status_code == 200
    assert api.post(f"/api/instances/{world['other_vm'].pk}/console/", {"kind": "vnc"},
                    format="json").status_code == 404


def test_it_cancels_only_ones_own_jobs(world):
    operator, vm = world["operator"], world["vm"]
    own = Job.objects.create(kind="test", target_kind="instance", target_id=str(vm.pk), user=operator)
    admins = Job.objects.create(kind="test", target_kind="instance", target_id=str(vm.pk), user=world["admin"])
    api = api_for(operator)
    assert api.get(f"/api/jobs/{admins.pk}/").status_code == 200  # a job on the granted VM: readable
    assert api.post(f"/api/jobs/{admins.pk}/cancel/").status_code == 403  # but it is the admin's
    assert api.post(f"/api/jobs/{own.pk}/cancel/").status_code in (200, 202)
    admins.refresh_from_db()
    assert not admins.cancel_requested
