"""schemathesis against virtdeck's own OpenAPI schema: every API operation, fed data generated from the schema
(valid and not), answers without a server error, and what it answers matches the schema.

Calls go in-process through the WSGI application with an admin's API token, on the test driver's hosts.
Left out: creating or changing a host (POST/PUT/PATCH /api/hosts/) and fetching an SSH host key
(POST /api/hosts/ssh-host-key/), which connect to whatever URI they are given: generated URIs must not send
traffic anywhere. Those routes have hand-written hostile-input tests
(core/tests/test_api_hostile.py).
"""
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

HOST_WRITES = ("POST", "PUT", "PATCH")


@pytest.fixture
def api_schema(db):
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    # As Django's test client does: the handler must not close the test's database connection after a request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schema.exclude(path_regex=r"^/api/hosts/(\{[^}]+\}/)?$", method=list(HOST_WRITES)).exclude(
        path_regex=r"^/api/hosts/ssh-host-key/$")  # fetches the key of whatever host the URI names
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fleet(make_host, admin_user):
    """Hosts with VMs, networks, pools and volumes for the operations to find; the admin's token."""
    for node in ("small", "storage", "networks"):
        make_host(node)
    return {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])  # no shrinking: a failure shows its curl line as found
@pytest.mark.django_db
@pytest.mark.timeout(1200)  # one test item holds every operation
def test_it_answers_every_operation_within_its_schema(case, fleet):
    case.call_and_validate(headers=fleet, checks=[not_a_server_error, response_schema_conformance,
                                                  content_type_conformance])
